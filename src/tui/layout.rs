//! Where each part of the screen goes, for a given terminal size: a pure function, shared by
//! drawing and by the app (which needs the chat's height to scroll a page).

use ratatui::layout::Rect;

/// Narrower than this, one pane shows at a time with a tab line to switch.
pub const WIDE: u16 = 60;
/// Smaller than this, only a "terminal too small" line is drawn.
pub const MIN_WIDTH: u16 = 20;
/// See [`MIN_WIDTH`].
pub const MIN_HEIGHT: u16 = 6;

/// A pane that can have the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// The conversation and the input.
    Chat,
    /// Installed and catalog models.
    Models,
    /// MCP plugins.
    Plugins,
    /// Saved conversations.
    Sessions,
}

impl Pane {
    /// Every pane, in tab order.
    pub const ALL: [Pane; 4] = [Pane::Chat, Pane::Models, Pane::Plugins, Pane::Sessions];

    /// The tab title.
    pub fn title(self) -> &'static str {
        match self {
            Pane::Chat => "Chat",
            Pane::Models => "Models",
            Pane::Plugins => "Plugins",
            Pane::Sessions => "Sessions",
        }
    }

    /// The next pane in tab order (`step` 1 or -1).
    pub fn cycle(self, step: isize) -> Pane {
        let i = Pane::ALL.iter().position(|p| *p == self).unwrap_or(0) as isize;
        Pane::ALL[(i + step).rem_euclid(Pane::ALL.len() as isize) as usize]
    }
}

/// The rectangles of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas {
    /// The tab line (narrow layout only).
    pub tabs: Option<Rect>,
    /// The chat pane (transcript and input), when visible.
    pub chat: Option<Rect>,
    /// The model pane, when visible.
    pub models: Option<Rect>,
    /// The plugin pane, when visible.
    pub plugins: Option<Rect>,
    /// The session pane, when visible.
    pub sessions: Option<Rect>,
    /// The status bar.
    pub status: Rect,
    /// True when the terminal is below the usable minimum.
    pub too_small: bool,
}

/// Splits `size` for the focused pane and whether the side panel is wanted.
pub fn areas(size: Rect, focus: Pane, side_panel: bool) -> Areas {
    if size.width < MIN_WIDTH || size.height < MIN_HEIGHT {
        return Areas {
            too_small: true,
            status: size,
            ..Areas::default()
        };
    }
    let status = Rect::new(size.x, size.y + size.height - 1, size.width, 1);
    let body = Rect::new(size.x, size.y, size.width, size.height - 1);
    let side = side_panel || focus != Pane::Chat;
    if size.width >= WIDE && focus == Pane::Sessions {
        // Titles and snippets want room: the session pane takes half the width (the chat
        // keeps at least 30 columns) and the side panel's whole height.
        let side_w = (size.width / 2).clamp(24, 64);
        let chat = Rect::new(body.x, body.y, body.width - side_w, body.height);
        let sessions = Rect::new(body.x + chat.width, body.y, side_w, body.height);
        return Areas {
            chat: Some(chat),
            sessions: Some(sessions),
            status,
            ..Areas::default()
        };
    }
    if size.width >= WIDE && side {
        let side_w = (size.width * 35 / 100).clamp(24, 48);
        let chat = Rect::new(body.x, body.y, body.width - side_w, body.height);
        let side = Rect::new(body.x + chat.width, body.y, side_w, body.height);
        let models_h = if side.height >= 16 {
            side.height * 3 / 5
        } else {
            side.height
        };
        let (models, plugins) = if side.height >= 16 {
            let m = Rect::new(side.x, side.y, side.width, models_h);
            let p = Rect::new(
                side.x,
                side.y + models_h,
                side.width,
                side.height - models_h,
            );
            (Some(m), Some(p))
        } else if focus == Pane::Plugins {
            (None, Some(side))
        } else {
            (Some(side), None)
        };
        return Areas {
            chat: Some(chat),
            models,
            plugins,
            status,
            ..Areas::default()
        };
    }
    if size.width >= WIDE {
        return Areas {
            chat: Some(body),
            status,
            ..Areas::default()
        };
    }
    let tabs = Rect::new(body.x, body.y, body.width, 1);
    let pane = Rect::new(body.x, body.y + 1, body.width, body.height - 1);
    let mut out = Areas {
        tabs: Some(tabs),
        status,
        ..Areas::default()
    };
    match focus {
        Pane::Chat => out.chat = Some(pane),
        Pane::Models => out.models = Some(pane),
        Pane::Plugins => out.plugins = Some(pane),
        Pane::Sessions => out.sessions = Some(pane),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_shows_side_panel() {
        let a = areas(Rect::new(0, 0, 120, 40), Pane::Chat, true);
        assert!(a.tabs.is_none());
        let (chat, models, plugins) = (a.chat.unwrap(), a.models.unwrap(), a.plugins.unwrap());
        assert_eq!(chat.width + models.width, 120);
        assert_eq!(models.height + plugins.height, 39);
        assert_eq!(a.status, Rect::new(0, 39, 120, 1));
    }

    #[test]
    fn narrow_shows_one_pane_with_tabs() {
        let a = areas(Rect::new(0, 0, 40, 20), Pane::Models, true);
        assert_eq!(a.tabs, Some(Rect::new(0, 0, 40, 1)));
        assert_eq!(a.models, Some(Rect::new(0, 1, 40, 18)));
        assert!(a.chat.is_none() && a.plugins.is_none());
    }

    #[test]
    fn hidden_side_panel_gives_chat_everything() {
        let a = areas(Rect::new(0, 0, 100, 30), Pane::Chat, false);
        assert_eq!(a.chat, Some(Rect::new(0, 0, 100, 29)));
        assert!(a.models.is_none());
    }

    #[test]
    fn wide_sessions_take_the_whole_side_panel() {
        for side_panel in [true, false] {
            let a = areas(Rect::new(0, 0, 100, 30), Pane::Sessions, side_panel);
            assert_eq!(a.chat, Some(Rect::new(0, 0, 50, 29)));
            assert_eq!(a.sessions, Some(Rect::new(50, 0, 50, 29)));
            assert!(a.models.is_none() && a.plugins.is_none() && a.tabs.is_none());
        }
        let a = areas(Rect::new(0, 0, 160, 40), Pane::Sessions, true);
        assert_eq!(a.sessions.map(|r| r.width), Some(64));
        // Not focused, the side panel is models and plugins as before.
        let a = areas(Rect::new(0, 0, 100, 30), Pane::Chat, true);
        assert!(a.sessions.is_none() && a.models.is_some() && a.plugins.is_some());
    }

    #[test]
    fn narrow_sessions_are_a_tab() {
        let a = areas(Rect::new(0, 0, 40, 20), Pane::Sessions, true);
        assert_eq!(a.tabs, Some(Rect::new(0, 0, 40, 1)));
        assert_eq!(a.sessions, Some(Rect::new(0, 1, 40, 18)));
        assert!(a.chat.is_none() && a.models.is_none() && a.plugins.is_none());
    }

    #[test]
    fn tab_order_goes_round_all_four() {
        assert_eq!(Pane::Plugins.cycle(1), Pane::Sessions);
        assert_eq!(Pane::Sessions.cycle(1), Pane::Chat);
        assert_eq!(Pane::Chat.cycle(-1), Pane::Sessions);
    }

    #[test]
    fn too_small_below_minimum_and_every_size_is_safe() {
        assert!(areas(Rect::new(0, 0, 19, 30), Pane::Chat, true).too_small);
        assert!(!areas(Rect::new(0, 0, 32, 12), Pane::Chat, true).too_small);
        for w in 0..130 {
            for h in 0..50 {
                for focus in Pane::ALL {
                    let a = areas(Rect::new(0, 0, w, h), focus, true);
                    let all = [a.tabs, a.chat, a.models, a.plugins, a.sessions];
                    for r in all.into_iter().flatten() {
                        assert!(r.right() <= w && r.bottom() <= h);
                    }
                }
            }
        }
    }
}
