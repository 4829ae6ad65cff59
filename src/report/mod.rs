//! Human and machine summaries of a run, and charts.

pub mod summary;
pub mod svg;
pub mod svgkit;
pub mod sweep_svg;
