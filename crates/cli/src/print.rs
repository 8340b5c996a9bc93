//! Printing events: one readable (optionally coloured) line per event, or JSON lines; and the
//! closing summary.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use ttlive_eventbus::{Event, EventKind, SocialAction};

/// How events are printed.
pub struct Printer {
    json: bool,
    color: bool,
    only: Option<Vec<EventKind>>,
    pub summary: Summary,
}

/// What a session saw, for the closing summary.
pub struct Summary {
    started: Instant,
    pub counts: BTreeMap<EventKind, u64>,
    pub diamonds: u64,
    pub likes_total: u64,
    pub viewers: u64,
    pub errors: u64,
    pub lagged: u64,
}

impl Summary {
    fn new() -> Self {
        Summary {
            started: Instant::now(),
            counts: BTreeMap::new(),
            diamonds: 0,
            likes_total: 0,
            viewers: 0,
            errors: 0,
            lagged: 0,
        }
    }

    fn record(&mut self, ev: &Event) {
        *self.counts.entry(ev.kind()).or_default() += 1;
        match ev {
            Event::Gift(g) if !g.streaking => self.diamonds += g.diamonds,
            Event::Like(l) => self.likes_total = self.likes_total.max(l.total),
            Event::RoomUser(r) => self.viewers = r.viewer_count,
            _ => {}
        }
    }

    /// Total events seen.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// The summary as text lines.
    pub fn render(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let mut out = format!(
            "{} events in {:.1} s ({:.0}/s); viewers {}, likes {}, diamonds {} (finished gifts)",
            self.total(),
            secs,
            self.total() as f64 / secs,
            self.viewers,
            self.likes_total,
            self.diamonds
        );
        if self.errors > 0 {
            out.push_str(&format!("; {} recoverable errors", self.errors));
        }
        if self.lagged > 0 {
            out.push_str(&format!(
                "; {} events skipped by a slow terminal",
                self.lagged
            ));
        }
        let kinds: Vec<String> = self
            .counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        if !kinds.is_empty() {
            out.push_str("\n  ");
            out.push_str(&kinds.join(", "));
        }
        out
    }
}

fn paint(color: bool, code: &str, s: &str) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

impl Printer {
    /// A printer; `only` keeps just these kinds (lifecycle events are always shown in text mode).
    pub fn new(json: bool, color: bool, only: Option<Vec<EventKind>>) -> Self {
        Printer {
            json,
            color,
            only,
            summary: Summary::new(),
        }
    }

    /// Prints one event (if it passes the filter) and counts it.
    pub fn event(&mut self, out: &mut impl Write, ev: &Event) -> std::io::Result<()> {
        self.summary.record(ev);
        if let Some(only) = &self.only {
            // Lifecycle lines stay visible in text mode whatever the filter.
            let keep_lifecycle = ev.kind().is_lifecycle() && !self.json;
            if !only.contains(&ev.kind()) && !keep_lifecycle {
                return Ok(());
            }
        }
        if self.json {
            serde_json::to_writer(&mut *out, ev)?;
            return writeln!(out);
        }
        writeln!(out, "{}", self.line(ev))
    }

    fn who(&self, u: &ttlive_eventbus::User) -> String {
        let name = if u.nickname.is_empty() {
            &u.unique_id
        } else {
            &u.nickname
        };
        let mut s = paint(self.color, "1", name);
        if !u.unique_id.is_empty() && u.unique_id != *name {
            s.push_str(&paint(self.color, "2", &format!(" @{}", u.unique_id)));
        }
        if u.is_moderator {
            s.push_str(" [mod]");
        }
        if u.is_subscriber {
            s.push_str(" [sub]");
        }
        s
    }

    /// One readable line for an event.
    pub fn line(&self, ev: &Event) -> String {
        let c = self.color;
        let tag = |code: &str, name: &str| paint(c, code, &format!("{name:>9}"));
        match ev {
            Event::Chat(e) => format!("{} {}: {}", tag("36", "chat"), self.who(&e.user), e.comment),
            Event::Gift(e) => {
                let state = if e.streaking {
                    format!("x{} (streak…)", e.repeat_count)
                } else {
                    format!("x{} = {} diamonds", e.repeat_count, e.diamonds)
                };
                let name = if e.gift.name.is_empty() {
                    format!("gift {}", e.gift.id)
                } else {
                    e.gift.name.clone()
                };
                format!(
                    "{} {} sent {name} {state}",
                    tag("35", "gift"),
                    self.who(&e.user)
                )
            }
            Event::Member(e) => format!("{} {} joined", tag("32", "join"), self.who(&e.user)),
            Event::Like(e) => format!(
                "{} {} liked x{} (total {})",
                tag("31", "like"),
                self.who(&e.user),
                e.count,
                e.total
            ),
            Event::Social(e) => {
                let what = match e.action {
                    SocialAction::Follow => "followed the host",
                    SocialAction::Share => "shared the stream",
                    _ => "did something social",
                };
                format!("{} {} {what}", tag("34", "social"), self.who(&e.user))
            }
            Event::Subscribe(e) => format!(
                "{} {} subscribed (month {})",
                tag("33", "subscribe"),
                self.who(&e.user),
                e.sub_month
            ),
            Event::RoomUser(e) => {
                let top: Vec<String> = e
                    .top_viewers
                    .iter()
                    .take(3)
                    .map(|t| format!("{} ({})", t.user.nickname, t.coin_count))
                    .collect();
                format!(
                    "{} {} watching{}",
                    tag("2", "viewers"),
                    e.viewer_count,
                    if top.is_empty() {
                        String::new()
                    } else {
                        format!("; top: {}", top.join(", "))
                    }
                )
            }
            Event::QuestionNew(e) => format!(
                "{} {}: {}",
                tag("36", "question"),
                e.user.as_ref().map(|u| self.who(u)).unwrap_or_default(),
                e.content
            ),
            Event::LinkMicBattle(e) => {
                let hosts: Vec<String> = e
                    .anchors
                    .iter()
                    .map(|a| format!("@{}", a.unique_id))
                    .collect();
                format!(
                    "{} battle {} {}: {}",
                    tag("33", "battle"),
                    e.battle_id,
                    e.action,
                    hosts.join(" vs ")
                )
            }
            Event::LinkMicArmies(e) => {
                let scores: Vec<String> = e
                    .armies
                    .iter()
                    .map(|a| format!("{}: {}", a.host_user_id, a.host_score))
                    .collect();
                format!("{} {}", tag("33", "armies"), scores.join(", "))
            }
            Event::Emote(e) => format!(
                "{} {} sent {} emote(s)",
                tag("36", "emote"),
                self.who(&e.user),
                e.emotes.len()
            ),
            Event::StreamEnd(e) => format!("{} stream ended ({:?})", tag("1;31", "end"), e.action),
            Event::Connected(e) => format!(
                "{} to room {} via {}",
                tag("1;32", "connected"),
                e.meta.room_id,
                e.transport
            ),
            Event::Disconnected(e) => format!(
                "{} {}{}",
                tag("1;31", "lost"),
                e.reason,
                if e.will_reconnect {
                    "; will reconnect"
                } else {
                    ""
                }
            ),
            Event::Reconnecting(e) => format!(
                "{} attempt {} in {} ms ({})",
                tag("1;33", "retry"),
                e.attempt,
                e.delay_ms,
                e.reason
            ),
            Event::Gap(e) => format!("{} {}", tag("1;33", "gap"), e.reason),
            other => format!("{} {}", tag("2", other.name()), other.meta().method),
        }
    }
}
