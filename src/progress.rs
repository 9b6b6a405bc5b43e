//! A progress bar on stderr for long runs; silent on pipes, in `--quiet` runs and for small
//! projects.

use std::io::IsTerminal;

use crate::settings::Settings;

/// Below this many files a run is too short to need a bar.
const MIN_FILES: usize = 500;

pub struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    pub fn new(settings: &Settings, files: usize) -> Progress {
        if !settings.progress
            || settings.quiet
            || files < MIN_FILES
            || !std::io::stderr().is_terminal()
        {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new(files as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed}")
        {
            bar.set_style(style);
        }
        Progress(Some(bar))
    }

    pub fn tick(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
