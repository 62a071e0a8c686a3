//! The `filesystem` collector: size, free and available bytes, inodes and read-only state of
//! each mounted filesystem, as node_exporter 1.5 exposes them. Mounts come from /proc/1/mounts
//! (falling back to /proc/mounts), statistics from statfs(2) on the mount point (below
//! `--path.rootfs`). A mount whose statfs fails reports `node_filesystem_device_error 1` only.

use std::collections::HashSet;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{parse_file, Ctx, Families, NodeError};

/// One line of a mounts file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mount {
    pub device: String,
    pub mount_point: String,
    pub fs_type: String,
    pub options: String,
}

/// Parses /proc/<pid>/mounts (`device mountpoint fstype options dump pass`); `\040` and `\011`
/// in the mount point are a space and a tab, as fstab(5) writes them.
pub fn parse_mounts(text: &str) -> Result<Vec<Mount>, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        if parts.is_empty() {
            continue;
        }
        if parts.len() < 4 {
            return Err(format!("malformed mount point information: {line:?}"));
        }
        out.push(Mount {
            device: parts[0].to_string(),
            mount_point: parts[1].replace("\\040", " ").replace("\\011", "\t"),
            fs_type: parts[2].to_string(),
            options: parts[3].to_string(),
        });
    }
    Ok(out)
}

/// What statfs(2) says about one filesystem.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FsStats {
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub bsize: u64,
    pub files: u64,
    pub ffree: u64,
}

fn statfs(path: &Path) -> Result<FsStats, NodeError> {
    let sys = |source| NodeError::Sys {
        call: "statfs",
        source,
    };
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| sys(std::io::Error::from(std::io::ErrorKind::InvalidInput)))?;
    // SAFETY: `buf` is a plain C struct that statfs fills; `c` is a valid NUL-terminated path.
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statfs(c.as_ptr(), &mut buf) };
    if rc != 0 {
        return Err(sys(std::io::Error::last_os_error()));
    }
    // The field types differ between architectures; all fit u64 on Linux.
    #[allow(clippy::unnecessary_cast)]
    Ok(FsStats {
        blocks: buf.f_blocks as u64,
        bfree: buf.f_bfree as u64,
        bavail: buf.f_bavail as u64,
        bsize: buf.f_bsize as u64,
        files: buf.f_files as u64,
        ffree: buf.f_ffree as u64,
    })
}

/// Adds one mount's families: `stats` is `None` when statfs failed.
pub fn expose(m: &Mount, stats: Option<FsStats>, out: &mut Families) {
    let labels = [
        ("device", m.device.as_str()),
        ("fstype", m.fs_type.as_str()),
        ("mountpoint", m.mount_point.as_str()),
    ];
    out.gauge(
        "node_filesystem_device_error",
        "Whether an error occurred while getting statistics for the given device.",
        &labels,
        if stats.is_some() { 0.0 } else { 1.0 },
    );
    let Some(s) = stats else { return };
    let bsize = s.bsize as f64;
    let ro = m.options.split(',').any(|o| o == "ro");
    for (name, help, v) in [
        (
            "node_filesystem_size_bytes",
            "Filesystem size in bytes.",
            s.blocks as f64 * bsize,
        ),
        (
            "node_filesystem_free_bytes",
            "Filesystem free space in bytes.",
            s.bfree as f64 * bsize,
        ),
        (
            "node_filesystem_avail_bytes",
            "Filesystem space available to non-root users in bytes.",
            s.bavail as f64 * bsize,
        ),
        (
            "node_filesystem_files",
            "Filesystem total file nodes.",
            s.files as f64,
        ),
        (
            "node_filesystem_files_free",
            "Filesystem total free file nodes.",
            s.ffree as f64,
        ),
        (
            "node_filesystem_readonly",
            "Filesystem read-only status.",
            if ro { 1.0 } else { 0.0 },
        ),
    ] {
        out.gauge(name, help, &labels, v);
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Mount points whose statfs did not answer in time (an NFS server gone, say): they report a
/// device error, without a new statfs, until the hung call returns. The calls run on one
/// long-lived worker thread; a worker that hangs is abandoned and the next call starts another.
#[derive(Clone, Default)]
pub struct StuckMounts {
    stuck: Arc<Mutex<HashSet<String>>>,
    worker: Arc<Mutex<Option<std::sync::mpsc::Sender<Job>>>>,
}

impl StuckMounts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.stuck.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn contains(&self, mount_point: &str) -> bool {
        self.lock().contains(mount_point)
    }

    /// Hands `job` to the worker, starting one if there is none (or it died).
    fn submit(&self, job: Job) -> bool {
        let mut w = self.worker.lock().unwrap_or_else(|p| p.into_inner());
        let job = match w.as_ref() {
            Some(tx) => match tx.send(job) {
                Ok(()) => return true,
                // The worker is gone: start another.
                Err(std::sync::mpsc::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("statfs".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job();
                }
            });
        if spawned.is_err() || tx.send(job).is_err() {
            return false;
        }
        *w = Some(tx);
        true
    }

    /// Forgets the current worker (it is stuck in a call).
    fn abandon_worker(&self) {
        *self.worker.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Runs `call` on the worker and waits at most `timeout`: `None` and `mount_point` marked stuck
/// when it takes longer (the worker unmarks it when the call finally returns).
pub fn with_timeout<T: Send + 'static>(
    mount_point: &str,
    stuck: &StuckMounts,
    timeout: Duration,
    call: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    if stuck.contains(mount_point) {
        return None;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let done = Arc::new(AtomicBool::new(false));
    let (done2, stuck2, mp) = (done.clone(), stuck.clone(), mount_point.to_string());
    let submitted = stuck.submit(Box::new(move || {
        let r = call();
        let _ = tx.send(r);
        let mut set = stuck2.lock();
        done2.store(true, Ordering::SeqCst);
        set.remove(&mp);
    }));
    if !submitted {
        return None;
    }
    match rx.recv_timeout(timeout) {
        Ok(r) => Some(r),
        Err(_) => {
            let mut set = stuck.lock();
            if !done.load(Ordering::SeqCst) {
                eprintln!("promplay node: filesystem: mount point {mount_point} is not responding, marked as stale");
                set.insert(mount_point.to_string());
                drop(set);
                stuck.abandon_worker();
            }
            None
        }
    }
}

/// How long a statfs may take before its mount is reported stale (node_exporter's default).
pub const MOUNT_TIMEOUT: Duration = Duration::from_secs(5);

/// `mount_point` below the rootfs path (node_exporter's `rootfsFilePath`).
fn under_rootfs(rootfs: &Path, mount_point: &str) -> PathBuf {
    rootfs.join(mount_point.trim_start_matches('/'))
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let mounts = parse_file(&ctx.paths.proc("1/mounts"), parse_mounts)
        .or_else(|_| parse_file(&ctx.paths.proc("mounts"), parse_mounts))?;
    let f = &ctx.device_filters;
    let mut seen = std::collections::HashSet::new();
    for m in mounts {
        if f.mount_points_exclude.is_match(&m.mount_point)
            || f.fs_types_exclude.is_match(&m.fs_type)
        {
            continue;
        }
        // The same mount seen twice (bind mounts, mount namespaces) is reported once.
        if !seen.insert((m.device.clone(), m.mount_point.clone(), m.fs_type.clone())) {
            continue;
        }
        let path = under_rootfs(&ctx.paths.rootfs, &m.mount_point);
        let stats = with_timeout(
            &m.mount_point,
            &ctx.stuck_mounts,
            MOUNT_TIMEOUT,
            move || statfs(&path),
        )
        .and_then(Result::ok);
        expose(&m, stats, out);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTS: &str = "\
proc /proc proc rw,relatime 0 0
/dev/vda / ext4 rw,relatime,discard 0 0
/dev/vdb /data\\040disk xfs ro,noatime 0 0
";

    #[test]
    fn parses_mounts() {
        let m = parse_mounts(MOUNTS).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[1].device, "/dev/vda");
        assert_eq!(m[1].mount_point, "/");
        assert_eq!(m[1].fs_type, "ext4");
        assert_eq!(m[2].mount_point, "/data disk");
        assert!(parse_mounts("/dev/vda / ext4\n").is_err());
    }

    #[test]
    fn exposes_statfs_in_bytes_and_device_errors() {
        let m = parse_mounts(MOUNTS).unwrap();
        let mut f = Families::default();
        let s = FsStats {
            blocks: 100,
            bfree: 50,
            bavail: 40,
            bsize: 4096,
            files: 10,
            ffree: 7,
        };
        expose(&m[2], Some(s), &mut f);
        let l = [
            ("device", "/dev/vdb"),
            ("fstype", "xfs"),
            ("mountpoint", "/data disk"),
        ];
        assert_eq!(f.value("node_filesystem_size_bytes", &l), Some(409600.0));
        assert_eq!(f.value("node_filesystem_avail_bytes", &l), Some(163840.0));
        assert_eq!(f.value("node_filesystem_files_free", &l), Some(7.0));
        assert_eq!(f.value("node_filesystem_readonly", &l), Some(1.0));
        assert_eq!(f.value("node_filesystem_device_error", &l), Some(0.0));
        let mut f = Families::default();
        expose(&m[1], None, &mut f);
        let l = [
            ("device", "/dev/vda"),
            ("fstype", "ext4"),
            ("mountpoint", "/"),
        ];
        assert_eq!(f.value("node_filesystem_device_error", &l), Some(1.0));
        assert!(f.get("node_filesystem_size_bytes").is_none());
    }

    #[test]
    fn a_hung_statfs_marks_its_mount_stale_until_it_returns() {
        let stuck = StuckMounts::default();
        let slow = with_timeout("/nfs", &stuck, Duration::from_millis(20), || {
            std::thread::sleep(Duration::from_millis(300));
            7
        });
        assert_eq!(slow, None);
        assert!(stuck.contains("/nfs"));
        // Another mount is served meanwhile, by a new worker.
        assert_eq!(
            with_timeout("/a", &stuck, Duration::from_secs(5), || 2),
            Some(2)
        );
        // While stuck, no new call is made.
        assert_eq!(
            with_timeout("/nfs", &stuck, Duration::from_secs(5), || 1),
            None
        );
        std::thread::sleep(Duration::from_millis(600));
        assert!(!stuck.contains("/nfs"));
        assert_eq!(
            with_timeout("/nfs", &stuck, Duration::from_secs(5), || 1),
            Some(1)
        );
        // The worker thread is reused from call to call.
        let id = || std::thread::current().id();
        let t1 = with_timeout("/a", &stuck, Duration::from_secs(5), id);
        let t2 = with_timeout("/b", &stuck, Duration::from_secs(5), id);
        assert!(t1.is_some());
        assert_eq!(t1, t2);
    }

    #[test]
    fn statfs_of_root_works_and_of_nothing_fails() {
        let s = statfs(Path::new("/")).unwrap();
        assert!(s.blocks > 0 && s.bsize > 0);
        assert!(statfs(Path::new("/no/such/mount/point")).is_err());
        assert_eq!(
            under_rootfs(Path::new("/host"), "/"),
            PathBuf::from("/host/")
        );
        assert_eq!(
            under_rootfs(Path::new("/"), "/home"),
            PathBuf::from("/home")
        );
    }
}
