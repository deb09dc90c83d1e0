//! State Connected: an open session. The only state that can send to and
//! receive from the cluster.

use super::cleanup::{Cleanup, Released};
use super::subscribed::Ingress;
use super::{AsyncConnect, Connected, Context, sealed};
use crate::driver::OfferError;
use crate::protocol::{self, EventCode, Message, SessionCloseRequest, SessionMessageHeader};
use crate::{Driver, Owned};

/// How many egress messages one poll reads at most.
const POLL_LIMIT: usize = 64;

/// The session the cluster opened.
pub(super) struct Session {
    pub(super) session_id: i64,
    pub(super) leader_member_id: i32,
    pub(super) leadership_term_id: i64,
}

/// What a connected client owns.
#[doc(hidden)]
pub struct Held<D: Driver> {
    subscription: Owned<D::Subscription>,
    publication: Owned<D::Publication>,
    session: Session,
    /// After a NewLeaderEvent: the publication to the new leader.
    next_leader: Option<Ingress<D>>,
    /// False once the cluster closed the session.
    open: bool,
}

impl<D: Driver> Held<D> {
    pub(super) fn new(
        subscription: Owned<D::Subscription>,
        publication: Owned<D::Publication>,
        session: Session,
    ) -> Self {
        Held {
            subscription,
            publication,
            session,
            next_leader: None,
            open: true,
        }
    }

    fn close_request(&self, layout: protocol::Layout) -> Vec<u8> {
        protocol::encode_with(
            layout,
            &Message::Close(SessionCloseRequest {
                leadership_term_id: self.session.leadership_term_id,
                cluster_session_id: self.session.session_id,
            }),
        )
    }
}

impl<D: Driver> sealed::Holdings<D> for Held<D> {
    /// Closes the session first (best effort: the cluster also times out a
    /// silent session), then the resources.
    fn release<C: Cleanup>(self, ctx: &Context<D>, released: &mut Released) {
        if self.open {
            let request = self.close_request(ctx.config.layout);
            let _ = ctx.driver.offer(&self.publication, &request);
        }
        if let Some(ingress) = self.next_leader {
            if crate::mutant::FORGET_NEW_LEADER_PUBLICATION {
                // The mutant: upstream's remaining gap, reproduced.
                std::mem::forget(ingress);
            } else {
                ingress.release::<C>(released);
            }
        }
        released.close(self.publication, |r| r.publications += 1);
        released.close(self.subscription, |r| r.subscriptions += 1);
    }
}

impl<D: Driver, C: Cleanup> AsyncConnect<Connected, D, C> {
    fn held(&self) -> &Held<D> {
        match &self.attempt {
            Some(attempt) => &attempt.held,
            None => unreachable!("an attempt is only emptied by consuming it"),
        }
    }

    /// The cluster session id.
    pub fn session_id(&self) -> i64 {
        self.held().session.session_id
    }

    /// The leader's member id, as last told by the cluster.
    pub fn leader_member_id(&self) -> i32 {
        self.held().session.leader_member_id
    }

    /// The leadership term, as last told by the cluster.
    pub fn leadership_term_id(&self) -> i64 {
        self.held().session.leadership_term_id
    }

    /// Whether the session is open (the cluster has not closed it).
    pub fn is_open(&self) -> bool {
        self.held().open
    }

    /// Sends an application message to the cluster.
    pub fn offer(&mut self, payload: &[u8]) -> Result<(), OfferError> {
        let Some(attempt) = &self.attempt else {
            unreachable!("an attempt is only emptied by consuming it")
        };
        let held = &attempt.held;
        if !held.open {
            return Err(OfferError::Failed(String::from(
                "the cluster closed the session; connect again",
            )));
        }
        let mut message = protocol::encode_with(
            attempt.ctx.config.layout,
            &Message::Session(
                SessionMessageHeader {
                    leadership_term_id: held.session.leadership_term_id,
                    cluster_session_id: held.session.session_id,
                    timestamp: 0,
                },
                Vec::new(),
            ),
        );
        message.extend_from_slice(payload);
        attempt.ctx.driver.offer(&held.publication, &message)
    }

    /// Tells the cluster the client is alive (SessionKeepAlive): a cluster
    /// closes a session it has not heard from for its session timeout.
    pub fn send_keep_alive(&mut self) -> Result<(), OfferError> {
        let Some(attempt) = &self.attempt else {
            unreachable!("an attempt is only emptied by consuming it")
        };
        let held = &attempt.held;
        let keep_alive = protocol::encode_with(
            attempt.ctx.config.layout,
            &Message::KeepAlive(protocol::SessionKeepAlive {
                leadership_term_id: held.session.leadership_term_id,
                cluster_session_id: held.session.session_id,
            }),
        );
        attempt.ctx.driver.offer(&held.publication, &keep_alive)
    }

    /// Reads egress: hands this session's application messages to
    /// `handler`, and follows session events (a new leader: switch the
    /// ingress publication to it; CLOSED: the session is closed). Returns
    /// how many application messages were handled.
    pub fn poll_egress(&mut self, mut handler: impl FnMut(&[u8])) -> usize {
        let Some(attempt) = &mut self.attempt else {
            unreachable!("an attempt is only emptied by consuming it")
        };
        let (ctx, held) = (&mut attempt.ctx, &mut attempt.held);
        let mut handled = 0;
        // A connected session's cluster already spoke the configured layout.
        let (inbox, _) = ctx.read_egress(&held.subscription, POLL_LIMIT);
        for message in inbox {
            match message {
                Message::Session(header, payload)
                    if header.cluster_session_id == held.session.session_id =>
                {
                    handler(&payload);
                    handled += 1;
                }
                Message::NewLeader(event)
                    if event.cluster_session_id == held.session.session_id =>
                {
                    follow_leader::<D, C>(ctx, held, event);
                }
                Message::Event(event)
                    if event.cluster_session_id == held.session.session_id
                        && event.code == EventCode::Closed =>
                {
                    held.open = false;
                }
                _ => {}
            }
        }
        switch_to_new_leader(ctx, held);
        handled
    }
}

/// A new leader: start a publication to it (replacing one still pending
/// for an earlier leader, which is released, not forgotten).
fn follow_leader<D: Driver, C: Cleanup>(
    ctx: &mut Context<D>,
    held: &mut Held<D>,
    event: protocol::NewLeaderEvent,
) {
    held.session.leader_member_id = event.leader_member_id;
    held.session.leadership_term_id = event.leadership_term_id;
    let endpoint = protocol::parse_endpoints(&event.ingress_endpoints)
        .into_iter()
        .find(|(id, _)| *id == event.leader_member_id)
        .map(|(_, endpoint)| super::config::ConnectConfig::endpoint_channel(&endpoint))
        .or_else(|| {
            ctx.config
                .members
                .iter()
                .find(|(id, _)| *id == event.leader_member_id)
                .map(|(_, channel)| channel.clone())
        });
    if let Some(previous) = held.next_leader.take() {
        previous.release::<C>(&mut ctx.released);
    }
    if let Some(channel) = endpoint {
        held.next_leader = Some(Ingress::create(ctx, &channel));
    }
}

/// Once the new leader's publication is connected, it replaces the old one.
fn switch_to_new_leader<D: Driver>(ctx: &mut Context<D>, held: &mut Held<D>) {
    let Some(ingress) = &mut held.next_leader else {
        return;
    };
    if ingress.advance().is_some() {
        // Creation failed: stay on the old publication.
        held.next_leader = None;
        return;
    }
    let ready =
        matches!(ingress, Ingress::Ready(publication) if ctx.driver.is_connected(publication));
    if !ready {
        return;
    }
    if let Some(Ingress::Ready(publication)) = held.next_leader.take() {
        let old = std::mem::replace(&mut held.publication, publication);
        ctx.released.close(old, |r| r.publications += 1);
    }
}
