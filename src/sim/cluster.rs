//! The simulated cluster: members, a leader, sessions, and the answers to
//! the session protocol.

use crate::sync::os::Arc;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::faults::Dice;
use crate::protocol::{
    self, Challenge, ChallengeResponse, EventCode, Message, NewLeaderEvent, SessionConnectRequest,
    SessionEvent,
};

/// Where a session's egress goes.
#[derive(Debug, Clone)]
pub(super) struct Egress {
    pub(super) channel: String,
    pub(super) stream_id: i32,
}

/// An open session: where its egress goes, and when the client was last
/// heard from.
#[derive(Debug)]
pub(super) struct Session {
    egress: Egress,
    last_heard: Instant,
}

/// A message for an egress subscription.
pub(super) type Outgoing = (Egress, Vec<u8>);

/// A session waiting for its challenge to be answered.
#[derive(Debug)]
struct Challenged {
    session_id: i64,
    egress: Egress,
    since: Instant,
}

/// The cluster's state; the simulated driver delivers ingress to it.
#[derive(Debug)]
pub(super) struct Cluster {
    members: usize,
    pub(super) leader: usize,
    pub(super) term: i64,
    credentials: Option<Vec<u8>>,
    refuse_with: Option<String>,
    lost_reply_rate: f64,
    dice: Dice,
    next_session_id: i64,
    pub(super) sessions: HashMap<i64, Session>,
    challenged: HashMap<i64, Challenged>,
    pub(super) sessions_closed: u64,
    /// Sessions (and challenges) not heard from for this long are closed,
    /// as a real cluster times out a client that went silent.
    session_timeout: Duration,
    last_sweep: Instant,
    /// The simulation's clock (which a test may freeze and advance).
    clock: Arc<super::Clock>,
}

impl Cluster {
    pub(super) fn new(config: &super::SimConfig, clock: Arc<super::Clock>) -> Self {
        Cluster {
            // Validated by Sim::start: at least one member, a leader among them.
            members: config.members,
            leader: config.leader,
            term: 1,
            credentials: config.credentials.clone(),
            refuse_with: config.refuse_with.clone(),
            lost_reply_rate: config.faults.lost_reply_rate,
            // A stream of draws of its own, so the driver's draws do not
            // shift the cluster's.
            dice: Dice::new(config.faults.seed ^ 0xC1u64.rotate_left(56)),
            next_session_id: 1,
            sessions: HashMap::new(),
            challenged: HashMap::new(),
            sessions_closed: 0,
            session_timeout: config.session_timeout,
            last_sweep: clock.now(),
            clock,
        }
    }

    /// Closes sessions that timed out; at most once per tenth of the timeout.
    fn sweep(&mut self, now: Instant) {
        if now.duration_since(self.last_sweep) < self.session_timeout / 10 {
            return;
        }
        self.last_sweep = now;
        let timeout = self.session_timeout;
        self.sessions
            .retain(|_, session| now.duration_since(session.last_heard) < timeout);
        self.challenged
            .retain(|_, challenged| now.duration_since(challenged.since) < timeout);
    }

    pub(super) fn members(&self) -> usize {
        self.members
    }

    /// `memberId=endpoint,…` for every member, as REDIRECT and
    /// NewLeaderEvent carry them.
    pub(super) fn endpoints(&self) -> String {
        (0..self.members)
            .map(|id| format!("{id}={}", super::member_channel(id)))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn event(
        &self,
        correlation_id: i64,
        session_id: i64,
        code: EventCode,
        detail: String,
    ) -> Vec<u8> {
        protocol::encode(&Message::Event(SessionEvent {
            cluster_session_id: session_id,
            correlation_id,
            leadership_term_id: self.term,
            leader_member_id: self.leader as i32,
            code,
            version: protocol::PROTOCOL_VERSION,
            leader_heartbeat_timeout_ns: 10_000_000_000,
            detail,
        }))
    }

    /// Handles one ingress message that arrived at `member`; returns what to
    /// send back.
    pub(super) fn on_ingress(&mut self, member: usize, bytes: &[u8]) -> Vec<Outgoing> {
        let now = self.clock.now();
        self.sweep(now);
        match protocol::decode(bytes) {
            Ok(Message::Connect(request)) => self.on_connect(member, request),
            Ok(Message::ChallengeResponse(response)) => self.on_challenge_response(response),
            Ok(Message::KeepAlive(keep_alive)) => {
                if let Some(session) = self.sessions.get_mut(&keep_alive.cluster_session_id) {
                    session.last_heard = now;
                }
                Vec::new()
            }
            Ok(Message::Close(close)) => {
                if self.sessions.remove(&close.cluster_session_id).is_some() {
                    self.sessions_closed += 1;
                }
                Vec::new()
            }
            Ok(Message::Session(header, payload)) => {
                // The clustered service echoes application messages.
                match self.sessions.get_mut(&header.cluster_session_id) {
                    Some(session) => {
                        session.last_heard = now;
                        let egress = &session.egress;
                        let mut echo = header.clone();
                        echo.leadership_term_id = self.term;
                        let mut bytes = protocol::encode(&Message::Session(echo, Vec::new()));
                        bytes.extend_from_slice(&payload);
                        vec![(egress.clone(), bytes)]
                    }
                    None => Vec::new(),
                }
            }
            // Anything else is not for the cluster's ingress.
            _ => Vec::new(),
        }
    }

    fn on_connect(&mut self, member: usize, request: SessionConnectRequest) -> Vec<Outgoing> {
        if self.dice.chance(self.lost_reply_rate) {
            return Vec::new();
        }
        let egress = Egress {
            channel: request.response_channel,
            stream_id: request.response_stream_id,
        };
        let correlation_id = request.correlation_id;
        if member != self.leader {
            let reply = self.event(correlation_id, 0, EventCode::Redirect, self.endpoints());
            return vec![(egress, reply)];
        }
        if let Some(reason) = &self.refuse_with {
            let reply = self.event(correlation_id, 0, EventCode::Error, reason.clone());
            return vec![(egress, reply)];
        }
        let Some(expected) = &self.credentials else {
            return self.open(correlation_id, egress);
        };
        // Wrong credentials up front are rejected; otherwise the
        // authenticator challenges, and the answer decides.
        if !request.encoded_credentials.is_empty() && &request.encoded_credentials != expected {
            return self.reject(correlation_id, egress);
        }
        let session_id = self.new_session_id();
        let challenge = protocol::encode(&Message::Challenge(Challenge {
            correlation_id,
            cluster_session_id: session_id,
            encoded_challenge: b"who are you?".to_vec(),
        }));
        self.challenged.insert(
            correlation_id,
            Challenged {
                session_id,
                egress: egress.clone(),
                since: self.clock.now(),
            },
        );
        vec![(egress, challenge)]
    }

    fn on_challenge_response(&mut self, response: ChallengeResponse) -> Vec<Outgoing> {
        let Some(challenged) = self.challenged.remove(&response.correlation_id) else {
            return Vec::new();
        };
        if Some(&response.encoded_credentials) == self.credentials.as_ref() {
            self.sessions.insert(
                challenged.session_id,
                Session {
                    egress: challenged.egress.clone(),
                    last_heard: self.clock.now(),
                },
            );
            let reply = self.event(
                response.correlation_id,
                challenged.session_id,
                EventCode::Ok,
                String::new(),
            );
            vec![(challenged.egress, reply)]
        } else {
            self.reject(response.correlation_id, challenged.egress)
        }
    }

    fn new_session_id(&mut self) -> i64 {
        let id = self.next_session_id;
        self.next_session_id += 1;
        id
    }

    fn open(&mut self, correlation_id: i64, egress: Egress) -> Vec<Outgoing> {
        let session_id = self.new_session_id();
        self.sessions.insert(
            session_id,
            Session {
                egress: egress.clone(),
                last_heard: self.clock.now(),
            },
        );
        let reply = self.event(correlation_id, session_id, EventCode::Ok, String::new());
        vec![(egress, reply)]
    }

    fn reject(&self, correlation_id: i64, egress: Egress) -> Vec<Outgoing> {
        let reply = self.event(
            correlation_id,
            0,
            EventCode::AuthenticationRejected,
            String::from("bad credentials"),
        );
        vec![(egress, reply)]
    }

    /// A new leader: a new term, and a NewLeaderEvent to every session.
    pub(super) fn elect(&mut self, leader: usize) -> Vec<Outgoing> {
        // Sim::elect checked that `leader` is a member.
        self.leader = leader;
        self.term += 1;
        let endpoints = self.endpoints();
        self.sessions
            .iter()
            .map(|(session_id, session)| {
                let event = protocol::encode(&Message::NewLeader(NewLeaderEvent {
                    leadership_term_id: self.term,
                    cluster_session_id: *session_id,
                    leader_member_id: self.leader as i32,
                    ingress_endpoints: endpoints.clone(),
                }));
                (session.egress.clone(), event)
            })
            .collect()
    }
}
