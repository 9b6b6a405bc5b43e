//! Report emitters: each format is one file that turns an `AuditReport` into bytes. Emitters
//! never decide what is a hotspot or what it costs.

pub mod json;
pub mod text;

use std::io::Write;

use crate::audit::AuditReport;
use crate::settings::Format;

pub fn write(
    report: &AuditReport,
    format: Format,
    color: bool,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Text => text::write(report, color, w),
        Format::Json => json::write(report, w),
    }
}
