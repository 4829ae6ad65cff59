//! Human and machine summaries of a run, and charts.

pub mod files;
pub mod html;
pub mod summary;
pub mod svg;
pub mod svgkit;
