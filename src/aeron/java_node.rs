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

impl JavaNode {
    /// Starts a one-node cluster and waits (up to a minute) until it leads.
    pub fn start() -> Result<JavaNode, AeronError> {
        Self::start_with(&[])
    }

    /// Starts a one-node cluster with extra arguments (a secret: it then
    /// challenges every session) and waits until it leads.
    pub fn start_with(extra: &[&str]) -> Result<JavaNode, AeronError> {
        let node = Self::spawn(0, 1, extra)?;
        if eventually(Duration::from_secs(60), || node.is_leader()) {
            Ok(node)
        } else {
            Err(AeronError::Client(format!(
                "the Java node did not become leader: {:?}",
                node.lines()
            )))
        }
    }

    /// Starts member `member` of a `members`-node cluster, without waiting.
    fn spawn(member: usize, members: usize, extra: &[&str]) -> Result<JavaNode, AeronError> {
        let java = env("LEAKLESS_JAVA")?;
        let classpath = env("LEAKLESS_AERON_CLASSPATH")?;
        // Current Agrona needs `--add-exports` on Java 17; none for 1.15.1.
        let options = std::env::var("LEAKLESS_JAVA_OPTS").unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "leakless-java-node-{}-{member}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| AeronError::Client(e.to_string()))?;
        let mut child = Command::new(java)
            .args(options.split_whitespace())
            .arg(format!("-Dleakless.member={member}"))
            .arg(format!("-Dleakless.members={members}"))
            .arg("-cp")
            .arg(classpath)
            .arg("EchoNode")
            .arg(&dir)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
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
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A cluster of Java nodes on localhost (member i on the ports
/// `EchoNode.java` names). Every node still running is stopped on drop.
pub struct JavaCluster {
    /// By member id; `None` once stopped.
    nodes: Vec<Option<JavaNode>>,
}

impl JavaCluster {
    /// Starts `members` nodes and waits (up to two minutes) until one of
    /// them leads.
    pub fn start(members: usize) -> Result<JavaCluster, AeronError> {
        let mut nodes = Vec::with_capacity(members);
        for member in 0..members {
            nodes.push(Some(JavaNode::spawn(member, members, &[])?));
        }
        let cluster = JavaCluster { nodes };
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
}

impl Drop for JavaCluster {
    /// Asks every node to stop at once, so their shutdowns overlap.
    fn drop(&mut self) {
        for node in self.nodes.iter_mut().flatten() {
            drop(node.stdin.take());
        }
    }
}
