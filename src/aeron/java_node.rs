//! A real Java Aeron Cluster node for interop tests (feature
//! `java-cluster`): `interop/java-cluster/EchoNode.java`, prepared by
//! `interop/java-cluster/prepare.sh`, which prints the two environment
//! variables read here.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::AeronError;
use super::testing::eventually;
use crate::sync::os::{Arc, Mutex, thread};

/// A Java Aeron Cluster node (one member, an echo service), stopped and its
/// directory removed on drop. It prints `ROLE LEADER`, `SESSION_OPEN id`,
/// `SESSION_CLOSE id reason`, `AUTHENTICATED id`, `REJECTED id`.
pub struct JavaNode {
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

impl JavaNode {
    /// Starts a node and waits (up to a minute) until it leads.
    pub fn start() -> Result<JavaNode, AeronError> {
        Self::start_with(&[])
    }

    /// Starts a node with extra arguments (a secret: it then challenges
    /// every session).
    pub fn start_with(extra: &[&str]) -> Result<JavaNode, AeronError> {
        let java = env("LEAKLESS_JAVA")?;
        let classpath = env("LEAKLESS_AERON_CLASSPATH")?;
        let dir = std::env::temp_dir().join(format!("leakless-java-node-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| AeronError::Client(e.to_string()))?;
        let mut child = Command::new(java)
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
        let node = JavaNode {
            child,
            stdin,
            lines,
            dir,
        };
        if eventually(Duration::from_secs(60), || node.saw("ROLE LEADER")) {
            Ok(node)
        } else {
            Err(AeronError::Client(format!(
                "the Java node did not become leader: {:?}",
                node.lines()
            )))
        }
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
