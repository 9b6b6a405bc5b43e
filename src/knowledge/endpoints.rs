//! Where a request goes (`data/endpoints.toml`): the host of a literal or constant URL says
//! whether an HTTP call stays on this machine or its network, or crosses to a public host, and
//! so which part of the catalog's range applies.

use std::sync::OnceLock;

use serde::Deserialize;

use super::wildcard::{Patterns, Star};

/// Where a URL's host is, as far as its text says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// This machine, its private network, or a service name on a compose or cluster network.
    Local,
    /// A public host name or address.
    Remote,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    local_hosts: Vec<String>,
    single_label_local: bool,
    local: Bound,
    remote: Bound,
}

/// One side of a destination's range, with where the figure comes from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bound {
    #[serde(default)]
    pub low_ms: Option<f64>,
    #[serde(default)]
    pub high_ms: Option<f64>,
    pub source: String,
}

/// The compiled endpoint knowledge.
#[derive(Debug)]
pub struct Endpoints {
    local_hosts: Patterns,
    single_label_local: bool,
    /// A local request costs at most this (`high_ms`).
    pub local: Bound,
    /// A request to a public host costs at least this (`low_ms`).
    pub remote: Bound,
}

static SHIPPED: &str = include_str!("../../data/endpoints.toml");

impl Endpoints {
    /// The shipped endpoint knowledge, parsed once per process.
    pub fn shipped() -> &'static Endpoints {
        static ONCE: OnceLock<Endpoints> = OnceLock::new();
        ONCE.get_or_init(|| {
            let f: File =
                toml::from_str(SHIPPED).expect("data/endpoints.toml is validated by its tests");
            Endpoints {
                local_hosts: Patterns::new(f.local_hosts.iter().map(String::as_str), Star::Any),
                single_label_local: f.single_label_local,
                local: f.local,
                remote: f.remote,
            }
        })
    }

    /// Where the URL `url` (a literal, or a constant's value; interpolations written `{}`)
    /// sends its request, with the host; `None` when its text does not say (no scheme, an
    /// interpolated or empty host).
    pub fn place(&self, url: &str) -> Option<(Place, String)> {
        let host = host_of(url)?;
        let local = self.local_hosts.is_match(&host)
            || (self.single_label_local && !host.contains('.') && !host.contains(':'));
        Some((if local { Place::Local } else { Place::Remote }, host))
    }
}

/// The host of `scheme://[user@]host[:port]/...`, lower-cased, without brackets or port;
/// `None` without a scheme or when the host is interpolated (an interpolated port or path
/// leaves the host known: `tcp://localhost:{}`).
fn host_of(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    if authority.is_empty() {
        return None;
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    ok.then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(url: &str) -> Option<Place> {
        Endpoints::shipped().place(url).map(|(p, _)| p)
    }

    #[test]
    fn hosts() {
        assert_eq!(
            place("http://localhost:8100/api/lookup"),
            Some(Place::Local)
        );
        assert_eq!(place("http://127.0.0.1/x"), Some(Place::Local));
        assert_eq!(place("tcp://localhost:{}"), Some(Place::Local));
        assert_eq!(place("http://{}:8000/x"), None);
        assert_eq!(place("http://api-{}.example.com/x"), None);
        assert_eq!(place("http://[::1]:80/"), Some(Place::Local));
        assert_eq!(place("http://search:9200/_search"), Some(Place::Local));
        assert_eq!(place("http://192.168.1.20:8123/api"), Some(Place::Local));
        assert_eq!(place("http://172.20.0.3/"), Some(Place::Local));
        assert_eq!(place("http://api.svc.cluster.local/v1"), Some(Place::Local));
        assert_eq!(place("https://user:pw@redis:6379"), Some(Place::Local));
        assert_eq!(
            place("https://api.open-meteo.com/v1/forecast"),
            Some(Place::Remote)
        );
        assert_eq!(place("https://172.32.0.1/"), Some(Place::Remote));
        assert_eq!(place("HTTPS://API.GITHUB.COM"), Some(Place::Remote));
        assert_eq!(place("http://{}:{}/healthz"), None);
        assert_eq!(place("{}/v1/chat"), None);
        assert_eq!(place("/api/lookup"), None);
        assert_eq!(place("localhost:8000"), None);
        assert_eq!(place("http:///x"), None);
    }

    #[test]
    fn figures_are_ordered() {
        let e = Endpoints::shipped();
        let (local, remote) = (e.local.high_ms.unwrap(), e.remote.low_ms.unwrap());
        assert!(0.0 < local && local <= remote, "{local} {remote}");
        assert!(e.local.low_ms.is_none() && e.remote.high_ms.is_none());
    }
}
