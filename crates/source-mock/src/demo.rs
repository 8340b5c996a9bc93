//! The built-in demo recording and the generator that makes it.
//!
//! Everything here is invented (users, texts, ids, picture URLs) by a seeded generator; only the
//! *shape* follows real traffic: message mix and batch sizes, which fields are set, image URL
//! layouts, level and fan badges, display-text keys.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use bytes::Bytes;
use prost::Message;
use ttlive_proto::webcast as pb;

use crate::recording::{Header, Recording, Unit, UnitKind};

/// The demo's room id.
pub const DEMO_ROOM_ID: u64 = 7_460_000_000_000_004_242;
/// The demo streamer's handle.
pub const DEMO_UNIQUE_ID: &str = "fakeuser";
/// The demo streamer's user id.
pub const DEMO_HOST_ID: i64 = 6_900_000_000_000_004_242;
/// Wall-clock start of the demo (2026-01-01T18:00:00Z).
pub const DEMO_START_MS: i64 = 1_767_290_400_000;
/// The checked-in demo recording (`data/demo.ttlrec`, JSON lines).
pub const DEMO_RECORDING_BYTES: &[u8] = include_bytes!("../data/demo.ttlrec");
/// The generator's fixed seed.
pub const DEMO_SEED: u64 = 0x7474_6c69_7665_0001;
/// The demo's length: the stream ends this long after the start.
pub const DEMO_DURATION_MS: u64 = 180_000;

/// The built-in demo recording: about three minutes of the invented room of `fakeuser` (chats,
/// a gift streak and single gifts, joins, likes, follows, shares, viewer counts with top viewers,
/// a question, a battle, emotes, and a stream end).
pub fn demo_recording() -> Recording {
    static DEMO: OnceLock<Recording> = OnceLock::new();
    DEMO.get_or_init(
        || match Recording::from_bytes(Bytes::from_static(DEMO_RECORDING_BYTES)) {
            Ok(r) => r,
            Err(e) => {
                // Only reachable if the checked-in file is broken; the test suite guards it.
                tracing::error!("built-in demo recording is unreadable ({e}); regenerating it");
                generate_demo_recording()
            }
        },
    )
    .clone()
}

/// Runs the generator: the same recording as `data/demo.ttlrec`, byte for byte once written
/// with [`Recording::to_bytes`].
pub fn generate_demo_recording() -> Recording {
    Generator::new(DEMO_SEED).run()
}

// ---------------------------------------------------------------------------------------------
// a tiny deterministic PRNG (SplitMix64)

#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    fn hex(&mut self, n: usize) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        (0..n)
            .map(|_| HEX[(self.next_u64() % 16) as usize] as char)
            .collect()
    }

    fn token(&mut self, n: usize) -> String {
        const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..n)
            .map(|_| ALPHA[(self.next_u64() % ALPHA.len() as u64) as usize] as char)
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// invented people and words

const FIRST: &[&str] = &[
    "Mira", "Jonas", "Aiko", "Bruno", "Sofia", "Leon", "Nala", "Kai", "Ines", "Theo", "Yara",
    "Omar", "Lena", "Rafa", "Zoe", "Finn", "Ava", "Milo", "Luz", "Ezra", "Noor", "Tariq", "Elif",
    "Pablo", "Hana", "Ivo", "June", "Ravi", "Selma", "Otto",
];
const WORDS: &[&str] = &[
    "bloom", "pixel", "river", "comet", "maple", "echo", "lumen", "fable", "cobalt", "tango",
    "willow", "orbit", "mango", "drift", "ember",
];
const DECOR: &[&str] = &["", "", "", " ✨", " 🌙", " 🍓", " 🎧", " 🌻", " ⚡", " 🐢"];
const CHATS: &[&str] = &[
    "hello from the demo room!",
    "hi everyone 👋",
    "what are we cooking today?",
    "love this song",
    "first time here, nice vibes",
    "greetings from the other side of the planet",
    "can you say hi to me?",
    "lol 😂",
    "this is so relaxing",
    "where did you get that lamp?",
    "🔥🔥🔥",
    "how long have you been streaming?",
    "my cat is watching too",
    "play the one from yesterday please",
    "good evening!",
    "that was amazing",
    "team blue all the way",
    "is this live or a replay?",
    "haha you're funny",
    "sending good energy",
    "what's the next game?",
    "I just got home, what did I miss?",
    "❤️❤️",
    "the audio is perfect today",
    "can we get 1k likes?",
    "tap tap tap",
    "which camera do you use?",
    "bye, see you tomorrow",
];
const QUESTIONS: &[&str] = &[
    "What keyboard are you using on stream?",
    "How did you learn to draw like that?",
];

struct GiftDef {
    id: i64,
    name: &'static str,
    diamonds: i32,
    kind: i32,
}

/// The invented demo gift catalogue (also served by the fake server's `gift/list`).
const GIFTS: &[GiftDef] = &[
    GiftDef {
        id: 5655,
        name: "Rose",
        diamonds: 1,
        kind: 1,
    },
    GiftDef {
        id: 5269,
        name: "TikTok",
        diamonds: 1,
        kind: 1,
    },
    GiftDef {
        id: 5487,
        name: "Finger Heart",
        diamonds: 5,
        kind: 1,
    },
    GiftDef {
        id: 6064,
        name: "GG",
        diamonds: 1,
        kind: 1,
    },
    GiftDef {
        id: 11046,
        name: "Galaxy",
        diamonds: 1000,
        kind: 2,
    },
    GiftDef {
        id: 6369,
        name: "Lion",
        diamonds: 29999,
        kind: 2,
    },
];

/// A gift of the demo catalogue: `(id, name, diamond_count, type, image URL)`.
pub fn demo_gift_catalogue() -> Vec<(i64, &'static str, i32, i32, String)> {
    GIFTS
        .iter()
        .map(|g| {
            (
                g.id,
                g.name,
                g.diamonds,
                g.kind,
                gift_image(g).url_list[0].clone(),
            )
        })
        .collect()
}

fn gift_image(g: &GiftDef) -> pb::ImageModel {
    // Invented, stable per gift.
    let mut rng = Rng(g.id as u64 ^ 0xfeed_beef);
    let hash = rng.hex(32);
    pb::ImageModel {
        url_list: vec![
            format!("https://p19-webcast.tiktokcdn.com/img/maliva/webcast-va/{hash}~tplv-obj.webp"),
            format!("https://p16-webcast.tiktokcdn.com/img/maliva/webcast-va/{hash}~tplv-obj.webp"),
        ],
        uri: format!("webcast-va/{hash}"),
        avg_color: "#A3C7CC".to_owned(),
        ..Default::default()
    }
}

fn avatar(rng: &mut Rng, expires: i64) -> (pb::ImageModel, pb::ImageModel) {
    let hash = rng.hex(32);
    let sig = |rng: &mut Rng| format!("{}%3D", rng.token(27));
    let base = "https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068";
    let thumb = pb::ImageModel {
        url_list: vec![
            format!(
                "{base}/{hash}~tplv-tiktok-shrink:72:72.webp?x-expires={expires}&x-signature={}",
                sig(rng)
            ),
            format!(
                "{base}/{hash}~c5_100x100.webp?x-expires={expires}&x-signature={}",
                sig(rng)
            ),
            format!(
                "{base}/{hash}~c5_100x100.jpeg?x-expires={expires}&x-signature={}",
                sig(rng)
            ),
        ],
        uri: format!("100x100/tos-maliva-avt-0068/{hash}"),
        ..Default::default()
    };
    let medium = pb::ImageModel {
        url_list: vec![format!(
            "{base}/{hash}~tplv-tiktokx-compress_quality_30:72:72.webp?x-expires={expires}&x-signature={}",
            sig(rng)
        )],
        uri: format!("720x720/tos-maliva-avt-0068/{hash}"),
        ..Default::default()
    };
    (thumb, medium)
}

const LEVEL_PANEL: &str = "sslocal://webcast_lynxview_popup?use_spark=1&url=https%3A%2F%2Flf16-gecko-source.tiktokcdn.com%2Fobj%2Fbyte-gurd-source-sg%2Ftiktok%2Ffe%2Flive%2Ftiktok_live_revenue_user_level_main%2Fsrc%2Fpages%2Fprivilege%2Fpanel%2Ftemplate.js&hide_status_bar=0&hide_nav_bar=1&container_bg_color=00000000&height=90%25&bdhm_bid=tiktok_live_revenue_user_level_main&use_forest=1";

fn combine_badge(
    scene: i32,
    priority: i32,
    privilege_id: u64,
    level: u32,
    icon_uri: String,
    text: String,
) -> pb::BadgeStruct {
    pb::BadgeStruct {
        display_type: 4,
        priority_type: priority,
        scene_type: scene,
        position: 1,
        openweburl: LEVEL_PANEL.to_owned(),
        display: true,
        privilege_log_extra: Some(pb::PrivilegeLogExtra {
            data_version: "2".to_owned(),
            privilege_id: privilege_id.to_string(),
            privilege_version: "0".to_owned(),
            privilege_order_id: format!("mock_fix_width_transparent_{privilege_id}"),
            level: level.to_string(),
            ..Default::default()
        }),
        combine: Some(pb::CombineBadgeStruct {
            display_type: 4,
            icon: Some(pb::ImageModel {
                url_list: vec![
                    format!("https://p16-webcast.tiktokcdn.com/{icon_uri}~tplv-obj.image"),
                    format!("https://p19-webcast.tiktokcdn.com/{icon_uri}~tplv-obj.image"),
                ],
                uri: icon_uri,
                ..Default::default()
            }),
            str: text,
        }),
        ..Default::default()
    }
}

fn make_user(rng: &mut Rng, index: usize, expires: i64) -> pb::User {
    let first = FIRST[index % FIRST.len()];
    let word = rng.pick(WORDS);
    let id = 7_100_000_000_000_000_000_i64 + rng.range(0, 99_999_999_999_999_999) as i64;
    let nickname = format!("{first}{}", rng.pick(DECOR));
    let display_id = format!("{}_{word}{}", first.to_lowercase(), rng.range(1, 999));
    let (thumb, medium) = avatar(rng, expires);
    let mut badges = Vec::new();
    if rng.chance(70) {
        let level = rng.range(1, 35) as u32;
        let tier = level.div_ceil(5) * 5 - 4;
        badges.push(combine_badge(
            8,
            20,
            7_138_381_176_787_000_000 + u64::from(level),
            level,
            format!("webcast-va/grade_badge_icon_lite_lv{tier}_v1.png"),
            level.to_string(),
        ));
    }
    if rng.chance(25) {
        let level = rng.range(1, 12) as u32;
        badges.push(combine_badge(
            10,
            30,
            7_196_929_090_442_000_000 + u64::from(level),
            level,
            format!("webcast-va/fans_badge_icon_lv{level}_v0.png"),
            roman(level),
        ));
    }
    pb::User {
        id,
        nickname,
        avatar_thumb: Some(thumb),
        avatar_medium: Some(medium),
        follow_info: Some(pb::FollowInfo {
            following_count: rng.range(10, 5000) as i64,
            follower_count: rng.range(5, 40_000) as i64,
            follow_status: i64::from(rng.chance(40)),
            ..Default::default()
        }),
        user_attr: Some(pb::UserAttr::default()),
        display_id,
        sec_uid: format!("MS4wLjABAAAA{}", rng.token(64)),
        badge_list: badges,
        id_str: id.to_string(),
        ..Default::default()
    }
}

fn roman(n: u32) -> String {
    const R: [&str; 12] = ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "Ⅵ", "Ⅶ", "Ⅷ", "Ⅸ", "Ⅹ", "Ⅺ", "Ⅻ"];
    R.get(n.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("Ⅻ")
        .to_owned()
}

/// A copy of `u` as it appears inside display texts and rank lists (fewer fields).
fn slim(u: &pb::User) -> pb::User {
    pb::User {
        id: u.id,
        nickname: u.nickname.clone(),
        avatar_thumb: u.avatar_thumb.clone(),
        follow_info: u.follow_info,
        display_id: u.display_id.clone(),
        sec_uid: u.sec_uid.clone(),
        id_str: u.id_str.clone(),
        ..Default::default()
    }
}

fn user_text(key: &str, pattern: &str, u: &pb::User, extra: Option<&str>) -> pb::Text {
    let white = pb::TextFormat {
        color: "#ffffffff".to_owned(),
        weight: 400,
        ..Default::default()
    };
    let mut pieces = vec![pb::TextPiece {
        r#type: 11,
        format: Some(pb::TextFormat {
            color: "#ff8ce7ff".to_owned(),
            weight: 400,
            ..Default::default()
        }),
        user_value: Some(pb::TextPieceUser {
            user: Some(slim(u)),
            with_colon: false,
        }),
        ..Default::default()
    }];
    if let Some(s) = extra {
        pieces.push(pb::TextPiece {
            r#type: 1,
            format: Some(white.clone()),
            string_value: s.to_owned(),
            ..Default::default()
        });
    }
    pb::Text {
        key: key.to_owned(),
        default_pattern: pattern.to_owned(),
        default_format: Some(white),
        pieces,
    }
}

// ---------------------------------------------------------------------------------------------
// the generator

struct Generator {
    rng: Rng,
    room_id: i64,
    host: pb::User,
    rival: pb::User,
    users: Vec<pb::User>,
    next_msg_id: i64,
    log_id: i64,
    seq: u64,
    members: i32,
    likes: i64,
    follows: i64,
    shares: i32,
    viewers: i64,
    total_viewers: i64,
    coins: BTreeMap<usize, i64>,
    units: Vec<Unit>,
}

/// One scheduled message: when (ms offset) and what.
type Planned = (u64, pb::BaseProtoMessage);

impl Generator {
    fn new(seed: u64) -> Self {
        let mut rng = Rng(seed);
        let expires = DEMO_START_MS / 1000 + 2 * 24 * 3600;
        let users: Vec<pb::User> = (0..36).map(|i| make_user(&mut rng, i, expires)).collect();
        let (thumb, medium) = avatar(&mut rng, expires);
        let host = pb::User {
            id: DEMO_HOST_ID,
            nickname: "Fake User 🎙️".to_owned(),
            avatar_thumb: Some(thumb),
            avatar_medium: Some(medium),
            follow_info: Some(pb::FollowInfo {
                following_count: 321,
                follower_count: 48_250,
                ..Default::default()
            }),
            display_id: DEMO_UNIQUE_ID.to_owned(),
            sec_uid: format!("MS4wLjABAAAA{}", rng.token(64)),
            id_str: DEMO_HOST_ID.to_string(),
            ..Default::default()
        };
        let (rthumb, _) = avatar(&mut rng, expires);
        let rival = pb::User {
            id: 6_900_000_000_000_007_777,
            nickname: "Rival Streamer".to_owned(),
            avatar_thumb: Some(rthumb),
            display_id: "rival_streamer".to_owned(),
            id_str: "6900000000000007777".to_owned(),
            ..Default::default()
        };
        Generator {
            rng,
            room_id: DEMO_ROOM_ID as i64,
            host,
            rival,
            users,
            next_msg_id: 7_460_000_000_000_100_000,
            log_id: 7_460_000_000_000_900_000,
            seq: 0,
            members: 180,
            likes: 2_400,
            follows: 0,
            shares: 0,
            viewers: 212,
            total_viewers: 1_380,
            coins: BTreeMap::new(),
            units: Vec::new(),
        }
    }

    fn msg_id(&mut self) -> i64 {
        self.next_msg_id += self.rng.range(1_000, 90_000) as i64;
        self.next_msg_id
    }

    fn common(
        &mut self,
        method: &str,
        t: u64,
        text: Option<pb::Text>,
    ) -> (i64, pb::CommonMessageData) {
        let msg_id = self.msg_id();
        let create_time = DEMO_START_MS + t as i64;
        let common = pb::CommonMessageData {
            method: method.to_owned(),
            msg_id,
            room_id: self.room_id,
            create_time,
            is_show_msg: true,
            display_text: text,
            fold_type: 1,
            anchor_fold_type: 1,
            room_message_heat_level: 5,
            fold_type_for_web: 1,
            anchor_fold_type_for_web: 1,
            ..Default::default()
        };
        (msg_id, common)
    }

    fn base(method: &str, msg_id: i64, payload: Vec<u8>) -> pb::BaseProtoMessage {
        pb::BaseProtoMessage {
            method: method.to_owned(),
            payload: Bytes::from(payload),
            msg_id,
            ..Default::default()
        }
    }

    fn user(&mut self) -> (usize, pb::User) {
        let i = (self.rng.next_u64() % self.users.len() as u64) as usize;
        (i, self.users[i].clone())
    }

    fn chat(&mut self, t: u64, u: &pb::User, text: &str) -> pb::BaseProtoMessage {
        let (msg_id, mut common) = self.common("WebcastChatMessage", t, None);
        common.fold_type = 2;
        common.anchor_fold_type = 2;
        common.fold_type_for_web = 2;
        common.anchor_fold_type_for_web = 2;
        common.client_send_time = common.create_time - self.rng.range(300, 1500) as i64;
        let m = pb::WebcastChatMessage {
            common: Some(common),
            user: Some(u.clone()),
            content: text.to_owned(),
            content_language: "en".to_owned(),
            user_identity: Some(pb::UserIdentity {
                is_follower_of_anchor: u.follow_info.as_ref().is_some_and(|f| f.follow_status == 1),
                ..Default::default()
            }),
            comment_tag: vec![0],
            ..Default::default()
        };
        Self::base("WebcastChatMessage", msg_id, m.encode_to_vec())
    }

    fn member(&mut self, t: u64, u: &pb::User) -> pb::BaseProtoMessage {
        self.members += 1;
        let text = user_text("live_room_enter_toast", "{0:user} joined", u, None);
        let (msg_id, common) = self.common("WebcastMemberMessage", t, Some(text.clone()));
        let m = pb::WebcastMemberMessage {
            common: Some(common),
            user: Some(u.clone()),
            member_count: self.members,
            action: 1,
            anchor_display_text: Some(text),
            client_enter_source: "unknown".to_owned(),
            client_enter_type: "click".to_owned(),
            ..Default::default()
        };
        Self::base("WebcastMemberMessage", msg_id, m.encode_to_vec())
    }

    fn like(&mut self, t: u64, u: &pb::User) -> pb::BaseProtoMessage {
        let count = *self.rng.pick(&[1, 2, 3, 5, 8, 10, 15]);
        self.likes += i64::from(count);
        let text = user_text("pm_mt_msg_viewer", "{0:user} liked the LIVE", u, None);
        let (msg_id, common) = self.common("WebcastLikeMessage", t, Some(text.clone()));
        let m = pb::WebcastLikeMessage {
            common: Some(common),
            count,
            total: self.likes,
            user: Some(u.clone()),
            specified_display_text: vec![pb::SpecifiedDisplayText {
                uid: DEMO_HOST_ID,
                display_text: Some(text),
            }],
            effect_cnt: 1,
            ..Default::default()
        };
        Self::base("WebcastLikeMessage", msg_id, m.encode_to_vec())
    }

    fn follow(&mut self, t: u64, u: &pb::User) -> pb::BaseProtoMessage {
        self.follows += 1;
        let text = user_text(
            "pm_main_follow_message_viewer_2",
            "{0:user} followed the LIVE creator",
            u,
            None,
        );
        let (msg_id, common) = self.common("WebcastSocialMessage", t, Some(text));
        let m = pb::WebcastSocialMessage {
            common: Some(common),
            user: Some(u.clone()),
            share_type: 0,
            action: 1,
            follow_count: 48_250 + self.follows,
            ..Default::default()
        };
        Self::base("WebcastSocialMessage", msg_id, m.encode_to_vec())
    }

    fn share(&mut self, t: u64, u: &pb::User) -> pb::BaseProtoMessage {
        self.shares += 1;
        let text = user_text("pm_mt_guidance_share", "{0:user} shared the LIVE", u, None);
        let (msg_id, common) = self.common("WebcastSocialMessage", t, Some(text));
        let m = pb::WebcastSocialMessage {
            common: Some(common),
            user: Some(u.clone()),
            share_type: 1,
            action: 3,
            share_target: "-1".to_owned(),
            share_count: self.shares,
            ..Default::default()
        };
        Self::base("WebcastSocialMessage", msg_id, m.encode_to_vec())
    }

    fn emote(&mut self, t: u64, u: &pb::User) -> pb::BaseProtoMessage {
        let (msg_id, mut common) = self.common("WebcastEmoteChatMessage", t, None);
        common.fold_type = 2;
        common.anchor_fold_type = 2;
        let emote_id = 7_280_000_000_000_000_000_u64 + self.rng.range(0, 9_999_999_999);
        let hash = self.rng.hex(32);
        let m = pb::WebcastEmoteChatMessage {
            common: Some(common),
            user: Some(u.clone()),
            emote_list: vec![pb::EmoteModel {
                emote_id: emote_id.to_string(),
                image: Some(pb::ImageModel {
                    url_list: vec![format!(
                        "https://p16-webcast.tiktokcdn.com/webcast-va/sub_{hash}~tplv-obj.image"
                    )],
                    uri: format!("webcast-va/sub_{hash}"),
                    ..Default::default()
                }),
                emote_type: 1,
                ..Default::default()
            }],
            user_identity: Some(pb::UserIdentity {
                is_subscriber_of_anchor: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        Self::base("WebcastEmoteChatMessage", msg_id, m.encode_to_vec())
    }

    #[allow(clippy::too_many_arguments)]
    fn gift(
        &mut self,
        t: u64,
        ui: usize,
        gift: &GiftDef,
        repeat_count: i32,
        repeat_end: bool,
        group_id: i64,
    ) -> pb::BaseProtoMessage {
        let u = self.users[ui].clone();
        *self.coins.entry(ui).or_insert(0) += i64::from(gift.diamonds);
        let mut text = user_text(
            "webcast_aweme_gift_send_message",
            "{0:user} sent {1:gift} {2:string}",
            &u,
            None,
        );
        text.pieces.push(pb::TextPiece {
            r#type: 12,
            gift_value: Some(pb::TextPieceGift {
                gift_id: gift.id,
                color_id: -1,
                ..Default::default()
            }),
            ..Default::default()
        });
        text.pieces.push(pb::TextPiece {
            r#type: 1,
            format: Some(pb::TextFormat {
                color: "#ffface15".to_owned(),
                weight: 400,
                ..Default::default()
            }),
            string_value: format!("x{repeat_count}"),
            ..Default::default()
        });
        let (msg_id, mut common) = self.common("WebcastGiftMessage", t, Some(text));
        common.describe = format!("{}: gifted the host 1 {}", u.nickname, gift.name);
        let image = gift_image(gift);
        let m = pb::WebcastGiftMessage {
            common: Some(common),
            gift_id: gift.id,
            fan_ticket_count: gift.diamonds,
            group_count: 1,
            repeat_count,
            combo_count: repeat_count,
            user: Some(u),
            to_user: Some(slim(&self.host)),
            repeat_end: i32::from(repeat_end),
            group_id,
            room_fan_ticket_count: i64::from(gift.diamonds) * i64::from(repeat_count),
            gift: Some(pb::Gift {
                image: Some(image.clone()),
                describe: format!("Sent {}", gift.name),
                duration: 1000,
                id: gift.id,
                for_linkmic: true,
                combo: gift.kind == 1,
                r#type: gift.kind,
                diamond_count: gift.diamonds,
                is_displayed_on_panel: true,
                name: gift.name.to_owned(),
                icon: Some(image),
                ..Default::default()
            }),
            log_id: format!(
                "20260101180{:06}{}",
                t % 1_000_000,
                self.rng.hex(18).to_uppercase()
            ),
            send_type: if gift.kind == 1 && !repeat_end { 1 } else { 0 },
            color_id: -1,
            user_identity: Some(pb::UserIdentity {
                is_gift_giver_of_anchor: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        Self::base("WebcastGiftMessage", msg_id, m.encode_to_vec())
    }

    fn room_user(&mut self, t: u64) -> pb::BaseProtoMessage {
        self.viewers = (self.viewers + self.rng.range(0, 24) as i64 - 10).max(50);
        self.total_viewers += self.rng.range(3, 20) as i64;
        let mut top: Vec<(usize, i64)> = self.coins.iter().map(|(k, v)| (*k, *v)).collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut ranks = Vec::new();
        for (rank, (ui, score)) in top.iter().take(5).enumerate() {
            let mut u = slim(&self.users[*ui]);
            u.link_mic_stats = 1;
            ranks.push(pb::Contributor {
                score: *score,
                user: Some(u),
                rank: rank as i64 + 1,
                ..Default::default()
            });
        }
        let (msg_id, mut common) = self.common("WebcastRoomUserSeqMessage", t, None);
        common.is_show_msg = false;
        let m = pb::WebcastRoomUserSeqMessage {
            common: Some(common),
            ranks,
            total: self.viewers,
            total_user: self.total_viewers,
            anonymous: self.rng.range(0, 5) as i64,
            ..Default::default()
        };
        Self::base("WebcastRoomUserSeqMessage", msg_id, m.encode_to_vec())
    }

    fn question(&mut self, t: u64, u: &pb::User, text: &str) -> pb::BaseProtoMessage {
        let (msg_id, common) = self.common("WebcastQuestionNewMessage", t, None);
        let m = pb::WebcastQuestionNewMessage {
            common: Some(common),
            data: Some(pb::Question {
                question_id: msg_id - 17,
                content: text.to_owned(),
                create_time: (DEMO_START_MS + t as i64) / 1000,
                user: Some(slim(u)),
                ..Default::default()
            }),
        };
        Self::base("WebcastQuestionNewMessage", msg_id, m.encode_to_vec())
    }

    fn battle_settings(&self, battle_id: i64, start: u64, end: Option<u64>) -> pb::BattleSetting {
        pb::BattleSetting {
            battle_id,
            start_time_ms: DEMO_START_MS + start as i64,
            duration: 60,
            channel_id: battle_id - 3_000,
            status: if end.is_some() { 2 } else { 1 },
            invite_type: 1,
            battle_type: 1,
            end_time_ms: end.map_or(0, |e| DEMO_START_MS + e as i64),
            ..Default::default()
        }
    }

    fn battle(
        &mut self,
        t: u64,
        battle_id: i64,
        start: u64,
        finish: Option<(i64, i64)>,
    ) -> pb::BaseProtoMessage {
        let (msg_id, common) = self.common("WebcastLinkMicBattle", t, None);
        let anchor = |u: &pb::User, room: i64| pb::BattleUserInfoWrapper {
            key: u.id,
            value: Some(pb::BattleUserInfo {
                user: Some(pb::BattleBaseUserInfo {
                    user_id: u.id,
                    nick_name: u.nickname.clone(),
                    avatar_thumb: u.avatar_thumb.clone(),
                    display_id: u.display_id.clone(),
                    room_id: room,
                    ..Default::default()
                }),
            }),
        };
        let mut battle_result = BTreeMap::new();
        if let Some((host_score, rival_score)) = finish {
            let (hr, rr) = if host_score >= rival_score {
                (0, 1)
            } else {
                (1, 0)
            };
            battle_result.insert(
                self.host.id,
                pb::BattleResult {
                    user_id: self.host.id,
                    result: hr,
                    score: host_score,
                    diamond_score: host_score,
                    ..Default::default()
                },
            );
            battle_result.insert(
                self.rival.id,
                pb::BattleResult {
                    user_id: self.rival.id,
                    result: rr,
                    score: rival_score,
                    diamond_score: rival_score,
                    ..Default::default()
                },
            );
        }
        let m = pb::WebcastLinkMicBattle {
            common: Some(common),
            battle_id,
            battle_settings: Some(self.battle_settings(battle_id, start, finish.map(|_| t))),
            action: if finish.is_some() { 5 } else { 4 },
            battle_result,
            anchors_info: vec![
                anchor(&self.host, self.room_id),
                anchor(&self.rival, self.room_id + 1_234_567),
            ],
            ..Default::default()
        };
        Self::base("WebcastLinkMicBattle", msg_id, m.encode_to_vec())
    }

    fn armies(
        &mut self,
        t: u64,
        battle_id: i64,
        start: u64,
        supporters: &[(usize, i64)],
        rival_score: i64,
        from: (usize, &GiftDef),
    ) -> pb::BaseProtoMessage {
        let (msg_id, common) = self.common("WebcastLinkMicArmies", t, None);
        let host_score: i64 = supporters.iter().map(|s| s.1).sum();
        let host_army = pb::BattleUserArmies {
            user_armies: supporters
                .iter()
                .map(|(ui, score)| {
                    let u = &self.users[*ui];
                    pb::BattleUserArmy {
                        user_id: u.id,
                        score: *score,
                        nickname: u.nickname.clone(),
                        avatar_thumb: u.avatar_thumb.clone(),
                        diamond_score: *score,
                        user_id_str: u.id_str.clone(),
                        ..Default::default()
                    }
                })
                .collect(),
            hostscore: host_score,
            anchor_id_str: self.host.id_str.clone(),
            ..Default::default()
        };
        let rival_army = pb::BattleUserArmies {
            hostscore: rival_score,
            anchor_id_str: self.rival.id_str.clone(),
            ..Default::default()
        };
        let mut armies = BTreeMap::new();
        armies.insert(self.host.id, host_army);
        armies.insert(self.rival.id, rival_army);
        let (from_ui, gift) = from;
        let m = pb::WebcastLinkMicArmies {
            common: Some(common),
            battle_id,
            armies,
            channel_id: battle_id - 3_000,
            send_gift_success_time: DEMO_START_MS + t as i64 - 120,
            update_battle_score_time: DEMO_START_MS + t as i64 - 20,
            trigger_reason: 1,
            from_user_id: self.users[from_ui].id,
            gift_id: gift.id,
            gift_count: 1,
            gift_icon_image: Some(gift_image(gift)),
            total_diamond_count: gift.diamonds,
            repeat_count: 1,
            battle_settings: Some(self.battle_settings(battle_id, start, None)),
            ..Default::default()
        };
        Self::base("WebcastLinkMicArmies", msg_id, m.encode_to_vec())
    }

    fn control_end(&mut self, t: u64) -> pb::BaseProtoMessage {
        let (msg_id, mut common) = self.common("WebcastControlMessage", t, None);
        common.is_show_msg = false;
        let m = pb::WebcastControlMessage {
            common: Some(common),
            action: 3,
            tips: "The LIVE has ended".to_owned(),
            ..Default::default()
        };
        Self::base("WebcastControlMessage", msg_id, m.encode_to_vec())
    }

    /// The scripted highlights (gifts, question, battle, stream end), by offset.
    fn scripted(&mut self) -> Vec<Planned> {
        let mut plan: Vec<Planned> = Vec::new();
        // A Rose streak: five taps with repeat_end = 0, then the final message.
        let streaker = 3;
        let group = DEMO_START_MS + 24_000;
        for i in 1..=5 {
            let m = self.gift(
                23_000 + i as u64 * 450,
                streaker,
                &GIFTS[0],
                i,
                false,
                group,
            );
            plan.push((23_000 + i as u64 * 450, m));
        }
        let m = self.gift(26_400, streaker, &GIFTS[0], 5, true, group);
        plan.push((26_400, m));
        // Single (non-streakable) gifts.
        let m = self.gift(41_000, 11, &GIFTS[4], 1, true, DEMO_START_MS + 41_000);
        plan.push((41_000, m));
        let m = self.gift(131_000, 7, &GIFTS[5], 1, true, DEMO_START_MS + 131_000);
        plan.push((131_000, m));
        // A single streakable gift still arrives twice (repeat_end 0, then 1).
        let m = self.gift(72_000, 19, &GIFTS[2], 1, false, DEMO_START_MS + 72_000);
        plan.push((72_000, m));
        let m = self.gift(72_900, 19, &GIFTS[2], 1, true, DEMO_START_MS + 72_000);
        plan.push((72_900, m));
        // Questions.
        let (_, u) = (5, self.users[5].clone());
        let m = self.question(60_500, &u, QUESTIONS[0]);
        plan.push((60_500, m));
        let u = self.users[14].clone();
        let m = self.question(118_200, &u, QUESTIONS[1]);
        plan.push((118_200, m));
        // A battle: open at 90 s, army updates, finish at 150 s.
        let battle_id = 7_460_000_000_000_555_000;
        plan.push((90_000, self.battle(90_000, battle_id, 90_000, None)));
        let mut supporters: Vec<(usize, i64)> = Vec::new();
        let mut rival = 0;
        for (k, t) in (95_000..=145_000).step_by(5_000).enumerate() {
            let ui = [2, 8, 13, 2, 21, 8, 30, 2, 13, 25, 8][k % 11];
            let gift = &GIFTS[k % 4];
            // Every supporter gift is also a gift message.
            let gm = self.gift(t - 300, ui, gift, 1, false, DEMO_START_MS + t as i64);
            plan.push((t - 300, gm));
            let gm = self.gift(t - 100, ui, gift, 1, true, DEMO_START_MS + t as i64);
            plan.push((t - 100, gm));
            let add = i64::from(gift.diamonds) * 37;
            match supporters.iter_mut().find(|s| s.0 == ui) {
                Some(s) => s.1 += add,
                None => supporters.push((ui, add)),
            }
            supporters.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            rival += self.rng.range(20, 180) as i64;
            let m = self.armies(t, battle_id, 90_000, &supporters, rival, (ui, gift));
            plan.push((t, m));
        }
        let host_total: i64 = supporters.iter().map(|s| s.1).sum();
        plan.push((
            150_000,
            self.battle(150_000, battle_id, 90_000, Some((host_total, rival))),
        ));
        plan
    }

    fn frame_result(
        &mut self,
        t: u64,
        messages: Vec<pb::BaseProtoMessage>,
    ) -> pb::ProtoMessageFetchResult {
        self.seq += 1;
        let now = DEMO_START_MS + t as i64;
        let cursor = format!("t-{now}_r-{}_d-1_u-1_h-1", self.seq);
        pb::ProtoMessageFetchResult {
            messages,
            cursor: cursor.clone(),
            fetch_interval: 1000,
            now,
            internal_ext: format!(
                "fetch_time:{now}|start_time:0|ack_ids:|flag:0|seq:{}|next_cursor:{cursor}|wss_info:0-{now}-0-0",
                self.seq
            ),
            fetch_type: 1,
            heartbeat_duration: 0,
            need_ack: true,
            ..Default::default()
        }
    }

    fn run(mut self) -> Recording {
        let header = Header::new(DEMO_ROOM_ID)
            .with_id("demo-fakeuser-v1")
            .with_unique_id(DEMO_UNIQUE_ID)
            .with_started_at_ms(DEMO_START_MS)
            .with_tool("ttlive-source-mock demo generator");

        // The sign-server fetch: a small history batch, cursor, push server and route params.
        let mut history = Vec::new();
        history.push(self.room_user(0));
        for i in 0..3 {
            let (_, u) = self.user();
            let text = CHATS[i * 7 % CHATS.len()];
            let mut m = self.chat(0, &u, text);
            m.is_history = true;
            history.push(m);
        }
        let mut fetch = self.frame_result(0, history);
        fetch.need_ack = false;
        fetch.is_first = true;
        fetch.heartbeat_duration = 10_000;
        fetch.push_server =
            "wss://webcast-ws.tiktok.com/webcast/im/ws_proxy/ws_reuse_supplement/".to_owned();
        fetch
            .route_params
            .insert("wrss".to_owned(), self.rng.token(43));
        self.units
            .push(Unit::new(0, UnitKind::SignFetch, fetch.encode_to_vec()));
        self.units.push(Unit::new(
            120,
            UnitKind::ClientFrame,
            ttlive_proto::enter_room_frame(DEMO_ROOM_ID, 1_234_567_890_123_456_789),
        ));

        // Background traffic, then the highlights merged in by time.
        let mut plan = self.scripted();
        let mut t = 400;
        let mut next_room_user = 6_000;
        while t < DEMO_DURATION_MS - 1_500 {
            let n = *self.rng.pick(&[1, 1, 1, 2, 2, 2, 3, 3, 4, 5]);
            for k in 0..n {
                let at = t + k * 37;
                let (ui, u) = self.user();
                let roll = self.rng.range(0, 99);
                let m = match roll {
                    0..=27 => {
                        let text = *self.rng.pick(CHATS);
                        self.chat(at, &u, text)
                    }
                    28..=54 => self.member(at, &u),
                    55..=84 => self.like(at, &u),
                    85..=89 => self.follow(at, &u),
                    90..=93 => self.share(at, &u),
                    94..=96 => self.emote(at, &u),
                    _ => {
                        let gift = &GIFTS[ui % 4];
                        self.gift(at, ui, gift, 1, true, DEMO_START_MS + at as i64)
                    }
                };
                plan.push((at, m));
            }
            if t >= next_room_user {
                next_room_user += 8_000 + self.rng.range(0, 4_000);
                plan.push((t + 5, self.room_user(t + 5)));
            }
            t += self.rng.range(600, 1_500);
        }
        plan.push((
            DEMO_DURATION_MS - 500,
            self.room_user(DEMO_DURATION_MS - 500),
        ));
        plan.push((DEMO_DURATION_MS, self.control_end(DEMO_DURATION_MS)));
        plan.sort_by_key(|(at, _)| *at);

        // Group into push frames: everything created since the previous frame, sent a moment
        // later; frames roughly every 300-900 ms.
        let mut heartbeat_at = 10_120;
        let mut hb_seq = 1;
        let mut i = 0;
        let mut frame_t = 700;
        while i < plan.len() {
            let mut batch = Vec::new();
            while i < plan.len() && plan[i].0 <= frame_t {
                batch.push(plan[i].1.clone());
                i += 1;
            }
            while heartbeat_at <= frame_t {
                self.units.push(Unit::new(
                    heartbeat_at,
                    UnitKind::ClientFrame,
                    ttlive_proto::heartbeat_frame(DEMO_ROOM_ID, hb_seq),
                ));
                hb_seq += 1;
                heartbeat_at += 10_000;
            }
            if !batch.is_empty() {
                let result = self.frame_result(frame_t, batch);
                self.log_id += self.rng.range(1, 4_000) as i64;
                let frame = ttlive_proto::msg_frame(self.log_id as u64, &result, true);
                self.units
                    .push(Unit::new(frame_t, UnitKind::PushFrame, frame));
            }
            frame_t += self.rng.range(300, 900);
        }
        Recording {
            header,
            units: self.units,
        }
    }
}
