//! One question to Linux's sock_diag netlink interface (sock_diag(7)):
//! the inode of the IPv4 TCP socket with a given local and remote address.
//! The kernel answers it with one hash lookup, in microseconds, where
//! reading `/proc/net/tcp` walks the whole connection table (5 ms on a
//! machine with a 262,144-bucket table: most of a Lambda-mode cold start).
//!
//! Written against `libc` directly: it is one fixed request and one fixed
//! answer, where the netlink crates would bring five crates for it.

use std::io;
use std::net::SocketAddrV4;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `SOCK_DIAG_BY_FAMILY` (linux/sock_diag.h).
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `NLMSG_ERROR` (linux/netlink.h).
const NLMSG_ERROR: u16 = 2;
/// `INET_DIAG_NOCOOKIE`: match the socket by its addresses alone.
const NO_COOKIE: u32 = u32::MAX;
/// `struct nlmsghdr`.
const HEADER_BYTES: usize = 16;
/// `struct inet_diag_req_v2`: family, protocol, extensions, padding,
/// states, then the 48-byte `struct inet_diag_sockid`.
const REQUEST_BYTES: usize = 8 + SOCKID_BYTES;
const SOCKID_BYTES: usize = 48;
/// Where `idiag_inode` sits in the answer's `struct inet_diag_msg`: after
/// family, state, timer and retransmits (4 bytes), the sockid, and
/// expires, rqueue, wqueue and uid (16 bytes).
const INODE_OFFSET: usize = HEADER_BYTES + 4 + SOCKID_BYTES + 16;

/// The inode of the TCP socket whose local address is `local` and whose
/// remote address is `remote`: `Ok(None)` when there is no such socket,
/// `Err` when the kernel could not be asked (no netlink: use `/proc`).
pub fn tcp_socket_inode(local: SocketAddrV4, remote: SocketAddrV4) -> io::Result<Option<u64>> {
    // SAFETY: socket(2) with constant arguments; the result is checked.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a socket this function just opened and owns alone.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let request = request(local, remote);
    // SAFETY: the pointer and length are those of `request`, alive here.
    // Unconnected, a netlink socket sends to the kernel.
    let sent = unsafe {
        libc::send(
            socket.as_raw_fd(),
            request.as_ptr().cast(),
            request.len(),
            0,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut answer = [0u8; 512];
    // SAFETY: the pointer and length are those of `answer`. The kernel
    // queues its answer while handling the request, so a non-blocking read
    // finds it; if not, the caller falls back to /proc rather than wait.
    let received = unsafe {
        libc::recv(
            socket.as_raw_fd(),
            answer.as_mut_ptr().cast(),
            answer.len(),
            libc::MSG_DONTWAIT,
        )
    };
    let received = usize::try_from(received).map_err(|_| io::Error::last_os_error())?;
    parse_answer(&answer[..received], local)
}

/// `struct nlmsghdr` then `struct inet_diag_req_v2` for one exact lookup
/// (no `NLM_F_DUMP`), in host byte order except the addresses and ports.
fn request(local: SocketAddrV4, remote: SocketAddrV4) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_BYTES + REQUEST_BYTES);
    let length = (HEADER_BYTES + REQUEST_BYTES) as u32;
    bytes.extend_from_slice(&length.to_ne_bytes());
    bytes.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    bytes.extend_from_slice(&(libc::NLM_F_REQUEST as u16).to_ne_bytes());
    bytes.extend_from_slice(&1u32.to_ne_bytes()); // sequence number
    bytes.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it
    bytes.extend_from_slice(&[libc::AF_INET as u8, libc::IPPROTO_TCP as u8, 0, 0]);
    bytes.extend_from_slice(&u32::MAX.to_ne_bytes()); // every TCP state
    bytes.extend_from_slice(&sockid(local, remote));
    bytes
}

/// `struct inet_diag_sockid`: ports and addresses in network order (an
/// IPv4 address in the first 4 of 16 bytes), interface 0, no cookie.
fn sockid(local: SocketAddrV4, remote: SocketAddrV4) -> [u8; SOCKID_BYTES] {
    let mut id = [0u8; SOCKID_BYTES];
    id[0..2].copy_from_slice(&local.port().to_be_bytes());
    id[2..4].copy_from_slice(&remote.port().to_be_bytes());
    id[4..8].copy_from_slice(&local.ip().octets());
    id[20..24].copy_from_slice(&remote.ip().octets());
    id[40..44].copy_from_slice(&NO_COOKIE.to_ne_bytes());
    id[44..48].copy_from_slice(&NO_COOKIE.to_ne_bytes());
    id
}

/// The inode in the kernel's answer, `None` for "no such socket" (ENOENT).
/// An answer for another socket than `local`'s is refused.
fn parse_answer(answer: &[u8], local: SocketAddrV4) -> io::Result<Option<u64>> {
    let u16_at = |at: usize| {
        answer
            .get(at..at + 2)
            .map(|b| u16::from_ne_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        answer
            .get(at..at + 4)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    let malformed = || io::Error::new(io::ErrorKind::InvalidData, "short sock_diag answer");
    match u16_at(4).ok_or_else(malformed)? {
        NLMSG_ERROR => {
            let code = u32_at(HEADER_BYTES).ok_or_else(malformed)? as i32;
            if code == -libc::ENOENT {
                Ok(None)
            } else {
                Err(io::Error::from_raw_os_error(-code))
            }
        }
        SOCK_DIAG_BY_FAMILY => {
            let id = HEADER_BYTES + 4;
            let port = answer.get(id..id + 2).ok_or_else(malformed)?;
            let address = answer.get(id + 4..id + 8).ok_or_else(malformed)?;
            if port != local.port().to_be_bytes() || address != local.ip().octets() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "sock_diag answered for another socket",
                ));
            }
            Ok(Some(u64::from(u32_at(INODE_OFFSET).ok_or_else(malformed)?)))
        }
        other => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unexpected netlink message type {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::os::unix::fs::MetadataExt;

    use super::*;

    fn v4(address: SocketAddr) -> SocketAddrV4 {
        match address {
            SocketAddr::V4(address) => address,
            SocketAddr::V6(_) => unreachable!("bound to 127.0.0.1"),
        }
    }

    /// The inode the kernel names is the one the client socket's fd has.
    #[test]
    fn the_kernel_names_the_inode_of_the_client_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = v4(listener.local_addr().unwrap());
        let client = TcpStream::connect(server).unwrap();
        let _accepted = listener.accept().unwrap();
        let peer = v4(client.local_addr().unwrap());
        let inode = std::fs::metadata(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&client)
        ))
        .unwrap()
        .ino();
        assert_eq!(tcp_socket_inode(peer, server).unwrap(), Some(inode));
        // The server's end is another socket, with another inode.
        let accepted_end = tcp_socket_inode(server, peer).unwrap();
        assert!(accepted_end.is_some_and(|other| other != inode));
        let nowhere: SocketAddrV4 = "127.0.0.1:9".parse().unwrap();
        assert_eq!(tcp_socket_inode(nowhere, server).unwrap(), None);
    }

    #[test]
    fn short_or_foreign_answers_are_errors_not_inodes() {
        let local: SocketAddrV4 = "127.0.0.1:4000".parse().unwrap();
        assert!(parse_answer(&[], local).is_err());
        assert!(parse_answer(&[0; 10], local).is_err());
        let mut answer = vec![0u8; INODE_OFFSET + 4];
        answer[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        answer[HEADER_BYTES + 4..HEADER_BYTES + 6].copy_from_slice(&4001u16.to_be_bytes());
        answer[HEADER_BYTES + 8..HEADER_BYTES + 12].copy_from_slice(&[127, 0, 0, 1]);
        assert!(parse_answer(&answer, local).is_err(), "another port");
        answer[HEADER_BYTES + 4..HEADER_BYTES + 6].copy_from_slice(&4000u16.to_be_bytes());
        answer[INODE_OFFSET..].copy_from_slice(&77u32.to_ne_bytes());
        assert_eq!(parse_answer(&answer, local).unwrap(), Some(77));
    }
}
