//! Writing run outputs atomically: every file is rendered in memory, written to a temporary name
//! in the output directory, and renamed into place only when all of them are written, so an
//! interrupted or failed run never leaves a half-written file (DESIGN.md §7).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Files to write: (file name, contents).
pub type Files = Vec<(String, Vec<u8>)>;

/// The temporary name a write of `name` by this process uses: `.NAME.PID.tmp`.
pub fn temporary_name(name: &str) -> String {
    format!(".{name}.{}.tmp", std::process::id())
}

/// `(NAME, PID)` when `file_name` is a temporary name as `temporary_name` makes them.
pub fn temporary_parts(file_name: &str) -> Option<(&str, u32)> {
    let inner = file_name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (name, pid) = inner.rsplit_once('.')?;
    if name.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((name, pid.parse().ok()?))
}

/// Removes the temporaries that writes killed before their rename left in `dir`, for the file
/// names `owns` accepts and never this process's own; nothing else in the directory is touched.
pub fn remove_stale_temporaries(dir: &Path, owns: impl Fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let stale = temporary_parts(&file_name).is_some_and(|(name, pid)| pid != me && owns(name));
        if stale && entry.path().is_file() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `files` into `dir` (created if missing) atomically per file, all or nothing as far as
/// the file system allows: on any error, temporary files are removed and no final name is
/// touched.
pub fn write_atomically(dir: &Path, files: &Files) -> io::Result<Vec<PathBuf>> {
    write_files(dir, files, true)
}

/// `write_atomically` without waiting for the data to reach the disk: a crash of the process
/// still leaves whole files or none, but a power cut may leave a renamed file incomplete.
/// For files whose readers verify them (sweep chunks), where an `fsync` per file would cost
/// more than the work they record.
pub fn write_atomically_unsynced(dir: &Path, files: &Files) -> io::Result<Vec<PathBuf>> {
    write_files(dir, files, false)
}

fn write_files(dir: &Path, files: &Files, durable: bool) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut temps: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| -> io::Result<()> {
        for (name, bytes) in files {
            let final_path = dir.join(name);
            let temp_path = dir.join(temporary_name(name));
            temps.push((temp_path.clone(), final_path));
            let mut f = std::fs::File::create(&temp_path)?;
            f.write_all(bytes)?;
            if durable {
                f.sync_all()?;
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (temp, _) in &temps {
            let _ = std::fs::remove_file(temp);
        }
        return Err(e);
    }
    let mut written = Vec::new();
    for (temp, final_path) in temps {
        std::fs::rename(&temp, &final_path)?;
        written.push(final_path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_round_trip_and_other_names_are_not_temporaries() {
        let name = temporary_name("timeline.csv");
        assert_eq!(
            temporary_parts(&name),
            Some(("timeline.csv", std::process::id()))
        );
        assert_eq!(temporary_parts(".runs.csv.12.tmp"), Some(("runs.csv", 12)));
        for other in [
            "runs.csv",
            ".runs.csv.tmp",
            ".runs.csv.x1.tmp",
            "..12.tmp",
            "a.12.tmp",
        ] {
            assert_eq!(temporary_parts(other), None, "{other}");
        }
    }

    #[test]
    fn writes_all_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![
            ("a.txt".to_string(), b"A".to_vec()),
            ("b.txt".to_string(), b"B".to_vec()),
        ];
        let written = write_atomically(dir.path(), &files).unwrap();
        assert_eq!(written.len(), 2);
        assert_eq!(std::fs::read(dir.path().join("b.txt")).unwrap(), b"B");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        // A name that cannot be created (a directory component that does not exist).
        let files = vec![
            ("ok.txt".to_string(), b"x".to_vec()),
            ("missing/dir.txt".to_string(), b"y".to_vec()),
        ];
        assert!(write_atomically(dir.path(), &files).is_err());
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "no file may remain"
        );
    }
}
