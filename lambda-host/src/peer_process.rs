//! Which process holds the other end of a loopback TCP connection, read
//! from Linux's `/proc`: the client socket is the `/proc/net/tcp` entry
//! whose local address is the peer's and whose remote address is ours, and
//! a process holds it if one of its file descriptors is that socket's inode.
//!
//! A function instance's Runtime API serves its own process (and that
//! process's children: a bootstrap script may start the runtime) and no
//! other: any local process could otherwise poll for events, bearer tokens
//! included, and answer for the authorizer.

use std::collections::HashSet;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// How deep below the instance's process its children are searched.
const MAX_DEPTH: usize = 4;

/// Whether the process `pid`, or one of its descendants, holds the client
/// end of the connection from `peer` to `server`. Anything that cannot be
/// read is `false`: the connection is refused.
pub fn held_by(pid: u32, peer: SocketAddr, server: SocketAddr) -> bool {
    let Some(inode) = socket_inode(peer, server) else {
        return false;
    };
    let wanted = format!("socket:[{inode}]");
    let mut seen = HashSet::new();
    let mut level = vec![pid];
    for _ in 0..MAX_DEPTH {
        let mut next = Vec::new();
        for pid in level {
            if !seen.insert(pid) {
                continue;
            }
            if holds(pid, &wanted) {
                return true;
            }
            next.extend(children(pid));
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    false
}

/// The inode of the IPv4 socket whose local address is `local` and whose
/// remote address is `remote`: asked of the kernel (microseconds), or where
/// netlink cannot be used, read from `/proc/net/tcp` (milliseconds).
fn socket_inode(local: SocketAddr, remote: SocketAddr) -> Option<u64> {
    if let (SocketAddr::V4(local), SocketAddr::V4(remote)) = (local, remote) {
        if let Ok(found) = crate::socket_diag::tcp_socket_inode(local, remote) {
            return found;
        }
    }
    socket_inode_from_proc(local, remote)
}

fn socket_inode_from_proc(local: SocketAddr, remote: SocketAddr) -> Option<u64> {
    let table = fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (from, to, inode) = (fields.get(1)?, fields.get(2)?, fields.get(9)?);
        (parse_address(from)? == local && parse_address(to)? == remote)
            .then(|| inode.parse().ok())
            .flatten()
    })
}

/// `0100007F:1F90` (the kernel's hex of the network-order address, then the
/// port) as `127.0.0.1:8080`.
fn parse_address(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let ip = u32::from_str_radix(ip, 16).ok()?;
    let port = u16::from_str_radix(port, 16).ok()?;
    Some(SocketAddr::new(
        IpAddr::V4(Ipv4Addr::from(ip.to_le_bytes())),
        port,
    ))
}

/// Whether one of `pid`'s file descriptors is `wanted` (`socket:[inode]`).
fn holds(pid: u32, wanted: &str) -> bool {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| fs::read_link(fd.path()).is_ok_and(|target| target.as_os_str() == wanted))
}

/// The children of every thread of `pid`.
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_addresses_read_back() {
        assert_eq!(
            parse_address("0100007F:1F90"),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(parse_address("0100007F"), None);
        assert_eq!(parse_address("zz:1"), None);
    }

    /// This process's own connection is found; it is not another's.
    #[test]
    fn a_connection_is_held_by_the_process_that_made_it() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap();
        let client = std::net::TcpStream::connect(server).unwrap();
        let (_accepted, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert!(held_by(std::process::id(), peer, server));
        assert!(!held_by(1, peer, server), "init does not hold it");
        let elsewhere: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert!(!held_by(std::process::id(), elsewhere, server));
    }

    /// The fallback reads the same inode as the kernel's answer.
    #[test]
    fn proc_net_tcp_and_sock_diag_agree() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap();
        let client = std::net::TcpStream::connect(server).unwrap();
        let _accepted = listener.accept().unwrap();
        let peer = client.local_addr().unwrap();
        let from_proc = socket_inode_from_proc(peer, server);
        assert!(from_proc.is_some());
        assert_eq!(socket_inode(peer, server), from_proc);
    }
}
