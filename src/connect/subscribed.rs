//! State Subscribed: ingress publications, the connect request, the answer
//! (Aeron steps 0–3), with REDIRECT and challenge looping inside the state.

use super::cleanup::{Cleanup, Released};
use super::config::ConnectConfig;
use super::connected;
use super::error::{ConnectError, ResourceKind, StateName};
use super::pending::creation_error;
use super::{AsyncConnect, Connected, Context, Progress, Subscribed, fail, sealed, timed_out};
use crate::protocol::{
    self, ChallengeResponse, EventCode, Message, SessionConnectRequest, parse_endpoints,
};
use crate::{Driver, Owned, Requester};

/// How many egress messages one poll reads at most.
const POLL_LIMIT: usize = 16;

/// One member's ingress publication.
pub(super) enum Ingress<D: Driver> {
    Creating(Requester<D::Publication, D::Error>),
    Ready(Owned<D::Publication>),
    /// Creation failed or was abandoned; nothing held.
    Failed,
}

impl<D: Driver> Ingress<D> {
    pub(super) fn create(ctx: &Context<D>, channel: &str) -> Self {
        Ingress::Creating(
            ctx.driver
                .add_publication(channel, ctx.config.ingress_stream_id),
        )
    }

    /// Takes the publication if its creation finished; returns the error if
    /// it failed.
    pub(super) fn advance(&mut self) -> Option<ConnectError> {
        let Ingress::Creating(requester) = self else {
            return None;
        };
        match requester.try_take()? {
            Ok(publication) => {
                *self = Ingress::Ready(publication);
                None
            }
            Err(error) => {
                *self = Ingress::Failed;
                Some(creation_error(ResourceKind::IngressPublication, error))
            }
        }
    }

    pub(super) fn release<C: Cleanup>(self, released: &mut Released) {
        match self {
            Ingress::Creating(pending) => C::give_up(pending, released),
            Ingress::Ready(publication) => {
                released.close(publication, |r| r.publications += 1);
            }
            Ingress::Failed => {}
        }
    }
}

/// Where the request/response exchange is.
enum Phase {
    /// Waiting for a member's publication to connect (step 1).
    AwaitConnected,
    /// Sending the connect request, or the answer to a challenge (step 2).
    Send(Option<ChallengeResponse>),
    /// Polling for the answer to `ctx.correlation_id` (step 3).
    AwaitResponse,
}

/// What a Subscribed attempt owns.
#[doc(hidden)]
pub struct Held<D: Driver> {
    subscription: Owned<D::Subscription>,
    /// Before a winner: one per member. After: the winner alone.
    members: Vec<(i32, Ingress<D>)>,
    phase: Phase,
}

impl<D: Driver> sealed::Holdings<D> for Held<D> {
    fn release<C: Cleanup>(self, _ctx: &Context<D>, released: &mut Released) {
        for (index, (_, ingress)) in self.members.into_iter().enumerate() {
            if crate::mutant::FORGET_SECOND_PUBLICATION && index == 1 {
                // The mutant: the second member's publication is forgotten.
                std::mem::forget(ingress);
                continue;
            }
            ingress.release::<C>(released);
        }
        released.close(self.subscription, |r| r.subscriptions += 1);
    }
}

impl<D: Driver> Held<D> {
    /// Step 0: one publication per member.
    pub(super) fn start(ctx: &Context<D>, subscription: Owned<D::Subscription>) -> Self {
        let members = ctx
            .config
            .members
            .iter()
            .map(|(id, channel)| (*id, Ingress::create(ctx, channel)))
            .collect();
        Held {
            subscription,
            members,
            phase: Phase::AwaitConnected,
        }
    }

    /// The winner's publication, once there is one.
    fn winner(&self) -> Option<&D::Publication> {
        match self.members.as_slice() {
            [(_, Ingress::Ready(publication))] => Some(publication),
            _ => None,
        }
    }
}

/// What one step decided.
enum Next {
    Stay,
    Connected(connected::Session),
    Fail(ConnectError),
    /// REDIRECT: a publication to the leader replaces the current ones.
    Redirect(i32, String),
}

impl<D: Driver, C: Cleanup> AsyncConnect<Subscribed, D, C> {
    /// Checks the deadline, then does the next step of the exchange: wait
    /// for a publication to connect, send the request, read the answer.
    pub fn poll(self) -> Progress<Self, AsyncConnect<Connected, D, C>> {
        let (mut ctx, mut held) = self.into_parts();
        if ctx.expired() {
            let mut error = timed_out(&ctx, StateName::Subscribed);
            if let (Phase::AwaitResponse, ConnectError::TimedOut { unanswered, .. }) =
                (&held.phase, &mut error)
            {
                *unanswered = Some(ctx.config.layout);
            }
            return fail::<Subscribed, D, C, _, _>(ctx, held, error);
        }
        let next = match held.phase {
            Phase::AwaitConnected => await_connected::<D, C>(&mut ctx, &mut held),
            Phase::Send(_) => send(&mut ctx, &mut held),
            Phase::AwaitResponse => await_response(&ctx, &mut held),
        };
        match next {
            Next::Stay => Progress::Pending(Self::from_parts(ctx, held)),
            Next::Fail(error) => fail::<Subscribed, D, C, _, _>(ctx, held, error),
            Next::Redirect(leader, channel) => {
                for (_, ingress) in held.members.drain(..) {
                    ingress.release::<C>(&mut ctx.released);
                }
                let ingress = Ingress::create(&ctx, &channel);
                held.members.push((leader, ingress));
                held.phase = Phase::AwaitConnected;
                Progress::Pending(Self::from_parts(ctx, held))
            }
            Next::Connected(session) => {
                let Held {
                    subscription,
                    mut members,
                    ..
                } = held;
                match members.pop() {
                    Some((_, Ingress::Ready(publication))) => {
                        let client = connected::Held::new(subscription, publication, session);
                        Progress::Ready(AsyncConnect::from_parts(ctx, client))
                    }
                    // An answer is only read after a winner was chosen.
                    _ => unreachable!("connected without a winning publication"),
                }
            }
        }
    }
}

/// Step 1: advance the members' creations; the first connected one wins and
/// the others are released (pending ones cancelled).
fn await_connected<D: Driver, C: Cleanup>(ctx: &mut Context<D>, held: &mut Held<D>) -> Next {
    let mut last_error = None;
    for (_, ingress) in &mut held.members {
        if let Some(error) = ingress.advance() {
            last_error = Some(error);
        }
    }
    let winner = held.members.iter().position(|(_, ingress)| {
        matches!(ingress, Ingress::Ready(publication) if ctx.driver.is_connected(publication))
    });
    if let Some(winner) = winner {
        let chosen = held.members.swap_remove(winner);
        for (_, ingress) in held.members.drain(..) {
            ingress.release::<C>(&mut ctx.released);
        }
        held.members.push(chosen);
        held.phase = Phase::Send(None);
        return Next::Stay;
    }
    if held
        .members
        .iter()
        .all(|(_, ingress)| matches!(ingress, Ingress::Failed))
    {
        return Next::Fail(last_error.unwrap_or(ConnectError::CreationAbandoned {
            what: ResourceKind::IngressPublication,
        }));
    }
    Next::Stay
}

/// Step 2: send the connect request (or the challenge response).
fn send<D: Driver>(ctx: &mut Context<D>, held: &mut Held<D>) -> Next {
    let Phase::Send(challenge) = &held.phase else {
        return Next::Stay;
    };
    let message = match challenge {
        Some(response) => Message::ChallengeResponse(response.clone()),
        None => {
            // An ephemeral egress port is named once the driver has bound it.
            let Some(response_channel) = ctx
                .driver
                .response_channel(&held.subscription, &ctx.config.egress_channel)
            else {
                return Next::Stay;
            };
            ctx.correlation_id = ctx.driver.next_correlation_id();
            Message::Connect(SessionConnectRequest {
                correlation_id: ctx.correlation_id,
                response_stream_id: ctx.config.egress_stream_id,
                version: protocol::PROTOCOL_VERSION,
                response_channel,
                encoded_credentials: ctx.config.credentials.clone(),
                client_info: String::from("leakless"),
            })
        }
    };
    let Some(publication) = held.winner() else {
        return Next::Stay;
    };
    if ctx
        .driver
        .offer(
            publication,
            &protocol::encode_with(ctx.config.layout, &message),
        )
        .is_ok()
    {
        held.phase = Phase::AwaitResponse;
    }
    // Not sent (back-pressure, not connected): try again on the next poll,
    // until the deadline.
    Next::Stay
}

/// Step 3: read the answer to our request.
fn await_response<D: Driver>(ctx: &Context<D>, held: &mut Held<D>) -> Next {
    let (inbox, wrong_layout) = ctx.read_egress(&held.subscription, POLL_LIMIT);
    if let Some(error) = wrong_layout {
        return Next::Fail(ConnectError::WrongLayout(error));
    }
    for message in inbox {
        match message {
            Message::Event(event) if event.correlation_id == ctx.correlation_id => {
                return match event.code {
                    EventCode::Ok => Next::Connected(connected::Session {
                        session_id: event.cluster_session_id,
                        leader_member_id: event.leader_member_id,
                        leadership_term_id: event.leadership_term_id,
                    }),
                    EventCode::Error => Next::Fail(ConnectError::Refused {
                        detail: event.detail,
                    }),
                    EventCode::AuthenticationRejected => {
                        Next::Fail(ConnectError::AuthenticationRejected {
                            detail: event.detail,
                        })
                    }
                    EventCode::Closed => Next::Fail(ConnectError::SessionClosed {
                        detail: event.detail,
                    }),
                    EventCode::Redirect => {
                        let leader = event.leader_member_id;
                        match parse_endpoints(&event.detail)
                            .into_iter()
                            .find(|(id, _)| *id == leader)
                        {
                            Some((_, endpoint)) => {
                                Next::Redirect(leader, ConnectConfig::endpoint_channel(&endpoint))
                            }
                            None => Next::Fail(ConnectError::BadRedirect {
                                leader,
                                detail: event.detail,
                            }),
                        }
                    }
                };
            }
            Message::Challenge(challenge) if challenge.correlation_id == ctx.correlation_id => {
                held.phase = Phase::Send(Some(ChallengeResponse {
                    correlation_id: challenge.correlation_id,
                    cluster_session_id: challenge.cluster_session_id,
                    encoded_credentials: ctx.config.credentials.clone(),
                }));
                return Next::Stay;
            }
            // Answers to earlier requests, or other sessions' traffic.
            _ => {}
        }
    }
    Next::Stay
}
