//! The inbox's file-system steps, made so that whoever can write into the inbox (an SAP
//! file port, a shared folder) cannot turn them against the agent: nothing here follows a
//! symbolic link, overwrites an existing name, or checks a name before taking it (a check
//! followed by a separate create or rename leaves a window for another process).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Longest file name most file systems take (bytes).
const NAME_MAX: usize = 255;

/// Opens an inbox file for reading, refusing a symbolic link and anything but a regular
/// file. `O_NOFOLLOW` makes the refusal part of the open itself; `O_NONBLOCK` keeps a
/// named pipe from parking the reader before the type check sees it.
pub(super) fn open_regular(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => refused(path, "is a symbolic link"),
            _ => e,
        })?;
    if !file.metadata()?.is_file() {
        return Err(refused(path, "is not a regular file"));
    }
    Ok(file)
}

/// Why an inbox entry is refused before anything is read from it, or `None` when it is a
/// regular file. Looks at the entry itself, never at what a link points to.
pub(super) fn refusal(path: &Path) -> io::Result<Option<&'static str>> {
    let kind = std::fs::symlink_metadata(path)?.file_type();
    Ok(if kind.is_symlink() {
        Some("is a symbolic link: refused, nothing is read through it")
    } else if !kind.is_file() {
        Some("is not a regular file: refused")
    } else {
        None
    })
}

fn refused(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{} {why}", path.display()),
    )
}

/// Creates `path` for writing; fails when the name is taken, by a file or by a link
/// (dangling or not).
pub(super) fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// `dir/name` for `i == 0`, else `dir/name.i`; a name too long for the file system is
/// shortened (at a character boundary) so the suffix still fits.
fn candidate(dir: &Path, name: &str, i: u32) -> PathBuf {
    let suffix = if i == 0 {
        String::new()
    } else {
        format!(".{i}")
    };
    dir.join(format!(
        "{}{suffix}",
        shorten(name, NAME_MAX - suffix.len())
    ))
}

/// `name` cut to at most `max` bytes, keeping its end (where the extension is).
pub(super) fn shorten(name: &str, max: usize) -> &str {
    if name.len() <= max {
        return name;
    }
    let mut start = name.len() - max;
    while !name.is_char_boundary(start) {
        start += 1;
    }
    &name[start..]
}

/// Calls `take` with `dir/name`, `dir/name.1`, … until it does not fail with
/// `AlreadyExists`: taking the name is the check, so nothing is overwritten.
fn first_free<T>(
    dir: &Path,
    name: &str,
    mut take: impl FnMut(&Path) -> io::Result<T>,
) -> io::Result<(PathBuf, T)> {
    for i in 0..=u32::MAX {
        let path = candidate(dir, name, i);
        match take(&path) {
            Ok(t) => return Ok((path, t)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("no free name for {name} in {}", dir.display()),
    ))
}

/// Creates a new file `dir/name` (or the first free `name.N`).
pub(super) fn create_free(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    first_free(dir, name, create_new)
}

/// Writes `text` to a new file `dir/name` (or the first free `name.N`); returns its path.
pub(super) fn write_free(dir: &Path, name: &str, text: &str) -> io::Result<PathBuf> {
    let (path, mut file) = create_free(dir, name)?;
    file.write_all(text.as_bytes())?;
    Ok(path)
}

/// Moves `from` to `dir/name` (or the first free `name.N`) and returns where it went. A
/// hard link takes a name only while it is free (a rename would replace whatever got there
/// first) and moves a symbolic link as the link; where hard links cannot be made (another
/// file system), a regular file is copied into a new file and the original removed once
/// the copy is complete.
pub(super) fn move_free(from: &Path, dir: &Path, name: &str) -> io::Result<PathBuf> {
    match first_free(dir, name, |to| std::fs::hard_link(from, to)) {
        Ok((to, ())) => {
            std::fs::remove_file(from)?;
            Ok(to)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => {
            let mut source = open_regular(from)?;
            let (to, mut target) = create_free(dir, name)?;
            io::copy(&mut source, &mut target)?;
            target.sync_all()?;
            std::fs::remove_file(from)?;
            Ok(to)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened_to_fit_with_their_suffix() {
        let long = format!("{}.xml", "é".repeat(200));
        let p = candidate(Path::new("/in"), &long, 12);
        let n = p.file_name().unwrap().to_str().unwrap();
        assert!(n.len() <= NAME_MAX, "{}", n.len());
        assert!(n.ends_with(".xml.12"));
        assert_eq!(shorten("a.xml", 10), "a.xml");
    }

    #[test]
    fn nothing_is_overwritten_or_followed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let outside = d.join("outside.txt");
        std::fs::write(&outside, "keep").unwrap();
        std::os::unix::fs::symlink(&outside, d.join("a.txt")).unwrap();
        std::fs::write(d.join("a.txt.1"), "taken").unwrap();
        let written = write_free(d, "a.txt", "new").unwrap();
        assert_eq!(written, d.join("a.txt.2"));
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(d.join("a.txt.1")).unwrap(), "taken");
        assert!(open_regular(&d.join("a.txt")).is_err());
        let moved = move_free(&d.join("a.txt.2"), d, "a.txt").unwrap();
        assert_eq!(moved, d.join("a.txt.3"));
        assert_eq!(std::fs::read_to_string(moved).unwrap(), "new");
    }
}
