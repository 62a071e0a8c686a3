//! The `uname` collector: `node_uname_info` labelled with what uname(2) says.

use std::ffi::CStr;

use super::{Ctx, Families, NodeError};

/// The six strings of `struct utsname`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uname {
    pub sysname: String,
    pub nodename: String,
    pub release: String,
    pub version: String,
    pub machine: String,
    pub domainname: String,
}

/// A NUL-terminated field of `struct utsname` as a string (everything when there is no NUL).
pub fn field(raw: &[libc::c_char]) -> String {
    // c_char is i8 or u8 depending on the target; the bytes are what matter.
    let bytes: Vec<u8> = raw.iter().map(|&c| c as u8).collect();
    match CStr::from_bytes_until_nul(&bytes) {
        Ok(s) => s.to_string_lossy().into_owned(),
        Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn uname() -> Result<Uname, NodeError> {
    // SAFETY: `u` is a plain C struct that uname fills.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return Err(NodeError::Sys {
            call: "uname",
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(Uname {
        sysname: field(&u.sysname),
        nodename: field(&u.nodename),
        release: field(&u.release),
        version: field(&u.version),
        machine: field(&u.machine),
        domainname: field(&u.domainname),
    })
}

pub fn expose(u: &Uname, out: &mut Families) {
    out.gauge(
        "node_uname_info",
        "Labeled system information as provided by the uname system call.",
        &[
            ("sysname", &u.sysname),
            ("release", &u.release),
            ("version", &u.version),
            ("machine", &u.machine),
            ("nodename", &u.nodename),
            ("domainname", &u.domainname),
        ],
        1.0,
    );
}

pub fn collect(_ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    expose(&uname()?, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_stop_at_nul_and_survive_its_absence() {
        let raw: Vec<libc::c_char> = b"Linux\0junk".iter().map(|&b| b as libc::c_char).collect();
        assert_eq!(field(&raw), "Linux");
        let raw: Vec<libc::c_char> = b"(none)".iter().map(|&b| b as libc::c_char).collect();
        assert_eq!(field(&raw), "(none)");
        let u = uname().unwrap();
        assert_eq!(u.sysname, "Linux");
        let mut f = Families::default();
        expose(&u, &mut f);
        assert_eq!(f.get("node_uname_info").unwrap().samples[0].labels.len(), 6);
    }
}
