//! A real Java Aeron Cluster node for interop tests (feature
//! `java-cluster`): `interop/java-cluster/EchoNode.java`, prepared by
//! `interop/java-cluster/prepare.sh`, which prints the environment
//! variables read here (the Java runtime and its options, the classpath, and
//! the Aeron version, which decides the [`Layout`]).

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::AeronError;
use super::testing::eventually;
use crate::protocol::Layout;
use crate::sync::os::{Arc, Mutex, thread};

/// A Java Aeron Cluster node (an echo service): a one-node cluster, or a
/// member of a [`JavaCluster`]. Stopped (by its pid) and its directory
/// removed on drop. It prints `ROLE LEADER`, `SESSION_OPEN id`,
/// `SESSION_CLOSE id reason`, `AUTHENTICATED id`, `REJECTED id`.
pub struct JavaNode {
    member: usize,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<String>>>,
    dir: std::path::PathBuf,
    /// Keep `dir` when the node goes (it is to be restarted from it).
    keep_dir: bool,
}

/// Where a cluster's nodes run: on localhost (the default), or each on its
/// own host of the network lab (`interop/java-cluster/netlab.sh`).
#[derive(Debug, Clone, Default)]
pub struct Placement {
    /// Member i runs in network namespace `namespaces[i]`, if given.
    pub namespaces: Vec<String>,
    /// Member i's address (`-Dleakless.hosts`), if given.
    pub hosts: Vec<String>,
}

fn env(name: &str) -> Result<String, AeronError> {
    std::env::var(name).map_err(|_| {
        AeronError::Client(format!(
            "{name} is not set: run `eval \"$(bash interop/java-cluster/prepare.sh)\"` first"
        ))
    })
}

/// The Aeron version `prepare.sh` built the nodes from
/// (`LEAKLESS_AERON_VERSION`), e.g. `1.51.0`.
pub fn java_aeron_version() -> Result<String, AeronError> {
    env("LEAKLESS_AERON_VERSION")
}

/// The message layout the prepared Java nodes speak: [`Layout::Aeron1_15`]
/// for Aeron 1.15 – 1.18, [`Layout::Current`] otherwise (and when the
/// version is not set).
pub fn java_layout() -> Layout {
    let version = java_aeron_version().unwrap_or_default();
    let minor = version
        .strip_prefix("1.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|minor| minor.parse::<u32>().ok());
    match minor {
        Some(15..=18) => Layout::Aeron1_15,
        _ => Layout::Current,
    }
}

/// How long after a node is killed its mark files stop looking alive to a
/// new run (Aeron's liveness timeout, 10 s, and a margin).
pub const MARK_FILE_STALE: Duration = Duration::from_secs(12);

/// How long a restarted node may take to launch (replaying its archive
/// included) on a loaded 2-core machine.
pub const LAUNCH_WITHIN: Duration = Duration::from_secs(60);

/// Member `member`'s directory (its media driver, archive and cluster log),
/// one per test process.
fn node_dir(member: usize) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "leakless-java-node-{}-{member}",
        std::process::id()
    ))
}

impl JavaNode {
    /// Starts a one-node cluster and waits (up to a minute) until it leads.
    pub fn start() -> Result<JavaNode, AeronError> {
        Self::start_with(&[])
    }

    /// Starts a one-node cluster with extra arguments (a secret: it then
    /// challenges every session) and waits until it leads.
    pub fn start_with(extra: &[&str]) -> Result<JavaNode, AeronError> {
        let node = Self::spawn(0, 1, extra, &Placement::default(), false)?;
        if eventually(Duration::from_secs(60), || node.is_leader()) {
            Ok(node)
        } else {
            Err(AeronError::Client(format!(
                "the Java node did not become leader: {:?}",
                node.lines()
            )))
        }
    }

    /// Starts member `member` of a `members`-node cluster, without waiting;
    /// `rejoin`: from the directory an earlier run of it kept.
    fn spawn(
        member: usize,
        members: usize,
        extra: &[&str],
        placement: &Placement,
        rejoin: bool,
    ) -> Result<JavaNode, AeronError> {
        let java = env("LEAKLESS_JAVA")?;
        let classpath = env("LEAKLESS_AERON_CLASSPATH")?;
        // Current Agrona needs `--add-exports` on Java 17; none for 1.15.1.
        let options = std::env::var("LEAKLESS_JAVA_OPTS").unwrap_or_default();
        let dir = node_dir(member);
        if !rejoin {
            let _ = std::fs::remove_dir_all(&dir);
        }
        std::fs::create_dir_all(&dir).map_err(|e| AeronError::Client(e.to_string()))?;
        let mut command = match placement.namespaces.get(member) {
            Some(namespace) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", namespace.as_str(), java.as_str()]);
                command
            }
            None => Command::new(&java),
        };
        if !placement.hosts.is_empty() {
            command.arg(format!("-Dleakless.hosts={}", placement.hosts.join(",")));
        }
        let mut child = command
            .args(options.split_whitespace())
            .arg(format!("-Dleakless.member={member}"))
            .arg(format!("-Dleakless.members={members}"))
            .arg(format!("-Dleakless.keep={rejoin}"))
            .arg("-cp")
            .arg(classpath)
            .arg("EchoNode")
            .arg(&dir)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Kept beside the node's state, for a test that must say why a
            // node did not come up (see `errors`).
            .stderr(
                std::fs::File::create(dir.join("stderr.log"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .map_err(|e| AeronError::Client(format!("could not start java: {e}")))?;
        let stdin = child.stdin.take();
        let lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(stdout) = child.stdout.take() {
            let lines = lines.clone();
            thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                }
            });
        }
        Ok(JavaNode {
            member,
            child,
            stdin,
            lines,
            dir,
            keep_dir: false,
        })
    }

    /// This node's member id.
    pub fn member(&self) -> usize {
        self.member
    }

    /// Whether the last role the node reported is LEADER.
    pub fn is_leader(&self) -> bool {
        let lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        lines
            .iter()
            .rev()
            .find(|line| line.starts_with("ROLE "))
            .is_some_and(|line| line == "ROLE LEADER")
    }

    /// What the node has printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// What the node wrote to its standard error so far (its exceptions).
    pub fn errors(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    /// Waits (up to `within`) until the node has launched (it prints
    /// READY once its media driver, archive, consensus module and service
    /// are up); an error, with what the node wrote to its standard error,
    /// if it exited first or took longer.
    pub fn wait_launched(&mut self, within: Duration) -> Result<(), AeronError> {
        let mut exited = None;
        let launched = eventually(within, || {
            if self.saw("READY") {
                return true;
            }
            exited = self.child.try_wait().ok().flatten();
            exited.is_some()
        }) && exited.is_none();
        if launched {
            return Ok(());
        }
        let errors = self.errors();
        let why = match exited {
            Some(status) => format!("exited ({status})"),
            None => format!("did not launch within {within:?}"),
        };
        // A node killed while it was launching leaves its archive's mark
        // file claimed (Agrona's MarkFile writes Long.MAX_VALUE as the
        // activity timestamp until the archive is ready): every later
        // start sees an "active" mark file, however long it waits.
        let hint = if errors.contains("active mark file detected") {
            " (an earlier run of it was killed while launching: its mark file stays claimed)"
        } else {
            ""
        };
        Err(AeronError::Client(format!(
            "member {} {why}{hint}: {}",
            self.member,
            errors.lines().take(3).collect::<Vec<_>>().join(" | ")
        )))
    }

    /// Whether the node printed a line starting with `prefix`.
    pub fn saw(&self, prefix: &str) -> bool {
        self.count(prefix) > 0
    }

    /// How many lines starting with `prefix` the node printed.
    pub fn count(&self, prefix: &str) -> usize {
        self.lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|line| line.starts_with(prefix))
            .count()
    }
}

impl Drop for JavaNode {
    fn drop(&mut self) {
        drop(self.stdin.take()); // the node stops when its stdin closes
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.keep_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A cluster of Java nodes on localhost (member i on the ports
/// `EchoNode.java` names). Every node still running is stopped on drop.
pub struct JavaCluster {
    /// By member id; `None` once stopped.
    nodes: Vec<Option<JavaNode>>,
    placement: Placement,
    /// Members killed with their directories kept, to be restarted, and
    /// when they were killed.
    kept: Vec<(usize, Instant)>,
}

impl JavaCluster {
    /// Starts `members` nodes and waits until each has launched and (up to
    /// two minutes) one of them leads.
    pub fn start(members: usize) -> Result<JavaCluster, AeronError> {
        Self::start_placed(members, Placement::default())
    }

    /// Starts `members` nodes where `placement` says (each in its own
    /// network namespace, on its own address) and waits until each has
    /// launched and one leads.
    pub fn start_placed(members: usize, placement: Placement) -> Result<JavaCluster, AeronError> {
        let mut nodes = Vec::with_capacity(members);
        for member in 0..members {
            nodes.push(Some(JavaNode::spawn(
                member,
                members,
                &[],
                &placement,
                false,
            )?));
        }
        let mut cluster = JavaCluster {
            nodes,
            placement,
            kept: Vec::new(),
        };
        // Every node launched before any test may kill one (see `restart`).
        for node in cluster.nodes.iter_mut().flatten() {
            node.wait_launched(LAUNCH_WITHIN)?;
        }
        if eventually(Duration::from_secs(120), || cluster.leader().is_some()) {
            Ok(cluster)
        } else {
            Err(AeronError::Client(format!(
                "no Java node became leader: {:?}",
                cluster.running().map(JavaNode::lines).collect::<Vec<_>>()
            )))
        }
    }

    /// The nodes still running.
    pub fn running(&self) -> impl Iterator<Item = &JavaNode> {
        self.nodes.iter().flatten()
    }

    /// The running node that last reported LEADER, if any.
    pub fn leader(&self) -> Option<&JavaNode> {
        self.running().find(|node| node.is_leader())
    }

    /// A running node that does not lead, if any.
    pub fn follower(&self) -> Option<&JavaNode> {
        self.running().find(|node| !node.is_leader())
    }

    /// Member `member`, if it is running.
    pub fn node(&self, member: usize) -> Option<&JavaNode> {
        self.nodes.get(member).and_then(Option::as_ref)
    }

    /// Kills member `member` at once (SIGKILL: a crash, not a goodbye) and
    /// removes its directory.
    pub fn kill(&mut self, member: usize) {
        if let Some(mut node) = self.nodes.get_mut(member).and_then(Option::take) {
            let _ = node.child.kill();
            // Drop reaps it and removes its directory.
        }
    }

    /// Kills member `member` at once (SIGKILL) and keeps its directory
    /// (archive, cluster log), so that [`restart`](Self::restart) rejoins.
    pub fn kill_keeping_directory(&mut self, member: usize) {
        if let Some(mut node) = self.nodes.get_mut(member).and_then(Option::take) {
            node.keep_dir = true;
            let _ = node.child.kill();
            self.kept.push((member, Instant::now()));
        }
    }

    /// Starts member `member` again from the directory its killed run
    /// kept, and waits (up to [`LAUNCH_WITHIN`]) until it has launched;
    /// it then rejoins the cluster (catching up from the leader).
    ///
    /// Aeron refuses to start an archive or consensus module whose mark
    /// file looks alive (written within its liveness timeout, 10 s), as a
    /// crashed node's does for a while; so this first waits until
    /// [`MARK_FILE_STALE`] has passed since the kill. Waiting for the
    /// launch matters as much: a node killed while launching leaves its
    /// mark file claimed for good (see [`JavaNode::wait_launched`]), so a
    /// node is only ever killed once this has returned.
    pub fn restart(&mut self, member: usize) -> Result<(), AeronError> {
        let members = self.nodes.len();
        let killed = self
            .kept
            .iter()
            .find(|(kept, _)| *kept == member)
            .map(|k| k.1);
        let (Some(killed), true) = (killed, member < members && self.nodes[member].is_none())
        else {
            return Err(AeronError::Client(format!(
                "member {member} is not a member of this cluster of {members} killed with its directory kept"
            )));
        };
        let stale = killed + MARK_FILE_STALE;
        let now = Instant::now();
        if stale > now {
            thread::sleep(stale - now);
        }
        self.kept.retain(|&(kept, _)| kept != member);
        let mut node = JavaNode::spawn(member, members, &[], &self.placement, true)?;
        let launched = node.wait_launched(LAUNCH_WITHIN);
        self.nodes[member] = Some(node);
        launched
    }
}

impl Drop for JavaCluster {
    /// Asks every node to stop at once, so their shutdowns overlap, and
    /// removes the directories of members killed and never restarted.
    fn drop(&mut self) {
        for node in self.nodes.iter_mut().flatten() {
            drop(node.stdin.take());
        }
        for &(member, _) in &self.kept {
            let _ = std::fs::remove_dir_all(node_dir(member));
        }
    }
}
