//! The network lab from the tests' side (feature `java-cluster`): the hosts
//! `interop/java-cluster/netlab.sh` made (a client and three node hosts,
//! each a network namespace of its own), and cutting and healing the links
//! between them. A test that uses it runs inside the client's namespace
//! (`netlab.sh test` starts it there), so its media driver sends from the
//! client host's address.

use std::process::Command;

use super::AeronError;
use super::java_node::Placement;

/// A host of the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// The client's host (this process runs there).
    Client,
    /// Cluster member `0..3`'s host.
    Member(usize),
}

impl Host {
    /// The host's address.
    pub fn address(self) -> String {
        match self {
            Host::Client => String::from("10.231.0.10"),
            Host::Member(member) => format!("10.231.0.{}", 20 + member),
        }
    }

    /// The host's network namespace.
    pub fn namespace(self) -> String {
        match self {
            Host::Client => String::from("llab-client"),
            Host::Member(member) => format!("llab-n{member}"),
        }
    }
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Client => f.write_str("client"),
            Host::Member(member) => write!(f, "member {member}"),
        }
    }
}

/// The lab's three node hosts, and cuts between any two hosts. Every link
/// cut through it is healed when it is dropped.
#[derive(Debug)]
pub struct NetLab {
    cut: std::sync::Mutex<Vec<(Host, Host)>>,
}

/// The lab has three node hosts.
pub const LAB_MEMBERS: usize = 3;

impl NetLab {
    /// Member `member`'s ingress channel on its own host.
    pub fn member_channel(member: usize) -> String {
        format!(
            "aeron:udp?endpoint={}:{}",
            Host::Member(member).address(),
            super::testing::ingress_port(member)
        )
    }

    /// A connect to the lab's cluster: the egress on an ephemeral port of
    /// the client's host (the cluster answers there), every member's
    /// ingress on its own host. Stream ids, layout and timeout are the
    /// caller's.
    pub fn connect_config(egress_stream_id: i32) -> crate::connect::ConnectConfig {
        (0..LAB_MEMBERS).fold(
            crate::connect::ConnectConfig::new(
                format!("aeron:udp?endpoint={}:0", Host::Client.address()),
                egress_stream_id,
            ),
            |config, member| config.member(member as i32, Self::member_channel(member)),
        )
    }

    /// The lab `netlab.sh` made; an error if this process is not in it.
    pub fn open() -> Result<NetLab, AeronError> {
        if std::env::var_os("LEAKLESS_NETLAB").is_none() {
            return Err(AeronError::Client(String::from(
                "not in the network lab: run `bash interop/java-cluster/netlab.sh test`",
            )));
        }
        let lab = NetLab {
            cut: std::sync::Mutex::new(Vec::new()),
        };
        lab.nft(Host::Client, "list set inet llab cut")?;
        Ok(lab)
    }

    /// Where the cluster's nodes run: member i in its own namespace, on its
    /// own address.
    pub fn placement(&self) -> Placement {
        let members = (0..LAB_MEMBERS).map(Host::Member);
        Placement {
            namespaces: members.clone().map(Host::namespace).collect(),
            hosts: members.map(Host::address).collect(),
        }
    }

    /// Cuts the link between `a` and `b`, both ways: each drops what
    /// arrives from the other (a partition: nothing is refused, packets
    /// vanish).
    pub fn cut(&self, a: Host, b: Host) -> Result<(), AeronError> {
        self.both_ways("add", a, b)?;
        self.cut
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((a, b));
        Ok(())
    }

    /// Cuts `host` off from every other host of the lab.
    pub fn isolate(&self, host: Host) -> Result<(), AeronError> {
        for other in std::iter::once(Host::Client).chain((0..LAB_MEMBERS).map(Host::Member)) {
            if other != host {
                self.cut(host, other)?;
            }
        }
        Ok(())
    }

    /// Heals the link between `a` and `b`.
    pub fn heal(&self, a: Host, b: Host) -> Result<(), AeronError> {
        self.both_ways("delete", a, b)?;
        self.cut
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|&link| link != (a, b) && link != (b, a));
        Ok(())
    }

    /// Heals every link this lab handle cut.
    pub fn heal_all(&self) -> Result<(), AeronError> {
        let links = std::mem::take(&mut *self.cut.lock().unwrap_or_else(|p| p.into_inner()));
        for (a, b) in links {
            self.heal(a, b)?;
        }
        Ok(())
    }

    /// `add` or `delete` each host's address in the other's `cut` set.
    fn both_ways(&self, op: &str, a: Host, b: Host) -> Result<(), AeronError> {
        for (here, there) in [(a, b), (b, a)] {
            let command = format!("{op} element inet llab cut {{ {} }}", there.address());
            self.nft(here, &command)?;
        }
        Ok(())
    }

    fn nft(&self, host: Host, command: &str) -> Result<(), AeronError> {
        let output = Command::new("ip")
            .args(["netns", "exec", &host.namespace(), "nft"])
            .args(command.split_whitespace())
            .output()
            .map_err(|e| AeronError::Client(format!("could not run ip netns exec: {e}")))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(AeronError::Client(format!(
                "nft {command} in {}: {}",
                host.namespace(),
                String::from_utf8_lossy(&output.stderr).trim()
            )))
        }
    }
}

impl Drop for NetLab {
    fn drop(&mut self) {
        let _ = self.heal_all();
    }
}
