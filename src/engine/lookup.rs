//! Prompt-lookup decoding: drafts taken from the tokens already in the context, with no
//! second model. When the answer's last few tokens appeared earlier (the question quoted, a
//! file being rewritten, a list that repeats its pattern), the tokens that followed them then
//! are guessed to follow now. The target model checks a whole draft in one batch, and only
//! what it would have produced itself is kept (`turn.rs`), so the answer is the same as
//! without drafts; only the number of decode calls changes.
//!
//! A file copied with changes is followed closely: where the answer leaves its source for a
//! few tokens (a renamed variable) and comes back, drafting goes on from the source at once,
//! and the change is learned and applied to the rest of the copy. Drafts that do not save
//! time, by the decode calls' own timings ([`Costs`]), pause drafting for longer each time.

use llama_cpp_2::token::LlamaToken;

/// The longest n-gram looked up; longer matches are tried first.
const MAX_NGRAM: usize = 6;
/// The shortest n-gram looked up: shorter ones recur by chance too often to be worth a draft.
const MIN_NGRAM: usize = 5;
/// The fewest tokens worth a draft. On a CPU a decode call of a few tokens costs about as
/// much as that many calls of one (`cargo bench --bench verify`); only longer drafts save.
const MIN_DRAFT: usize = 8;
/// The most tokens drafted at once.
const MAX_DRAFT: usize = 32;
/// The most tokens generated without drafting after drafts failed.
const MAX_PAUSE: usize = 128;
/// How far past where its source was left the answer's last token is looked for: a renamed
/// word, an inserted or a dropped one.
const RESUME_WINDOW: usize = 8;
/// How many tokens the answer may write away from its source before it is given up.
const MAX_DETOUR: usize = 16;
/// The fewest tokens of a draft kept that show the answer copying its source (rather than
/// matching it by chance), so that the source is looked for again after a detour.
const MIN_COPIED: usize = 4;
/// The most edits remembered (the latest are kept).
const MAX_EDITS: usize = 32;

/// What a decode call costs on this machine, learned as the answer goes: a draft pays when
/// the call that checks it costs less than decoding the tokens it brought one by one.
#[derive(Debug, Default)]
pub(super) struct Costs {
    /// A running average of a one-token call, in milliseconds.
    single_ms: Option<f64>,
}

impl Costs {
    /// A one-token call took `ms`.
    pub(super) fn single(&mut self, ms: f64) {
        self.single_ms = Some(match self.single_ms {
            Some(average) => 0.9 * average + 0.1 * ms,
            None => ms,
        });
    }

    /// Whether a call that took `ms` and brought `tokens` tokens (those of the draft kept,
    /// and the next one sampled) paid for itself; `None` before any one-token call.
    pub(super) fn paid(&self, ms: f64, tokens: usize) -> Option<bool> {
        self.single_ms.map(|single| ms < single * tokens as f64)
    }
}

/// Proposes drafts, and adapts to how many the model accepts and what that saves.
#[derive(Debug)]
pub(super) struct Lookup {
    /// The draft length now: doubles while whole drafts are accepted, falls to what was
    /// accepted when they are not.
    len: usize,
    /// When to draft at all.
    pacing: Pacing,
    /// The last draft: where in the history it was placed, and where each of its tokens came
    /// from (for an edited span, where the span began).
    drafted_at: usize,
    sources: Vec<usize>,
    /// Where a draft from the same source as the last one would begin, when it was kept in
    /// full: only such a draft gets the grown length, a draft from elsewhere starts short.
    next: Option<usize>,
    /// Where the answer left its source, when a draft was kept only in part.
    left: Option<Detour>,
    /// How the answer changes its source, learned where it left it and came back: applied to
    /// later drafts (a variable renamed everywhere in a file).
    edits: Vec<Edit>,
}

/// The answer went its own way at history position `at`, where its source (at `source`)
/// went on otherwise.
#[derive(Debug, Clone, Copy)]
struct Detour {
    source: usize,
    at: usize,
}

/// The source's tokens `from` were written as `to`.
#[derive(Debug, Clone, PartialEq)]
struct Edit {
    from: Vec<LlamaToken>,
    to: Vec<LlamaToken>,
}

impl Lookup {
    pub(super) fn new() -> Self {
        Lookup {
            len: MIN_DRAFT,
            pacing: Pacing::new(),
            drafted_at: 0,
            sources: Vec::new(),
            next: None,
            left: None,
            edits: Vec::new(),
        }
    }

    /// Up to `room` (and the current draft length) tokens to follow `history`, empty when
    /// fewer than [`MIN_DRAFT`] would be drafted or while paused. Where a draft was kept only
    /// in part and the answer's last token comes again shortly after where it left its
    /// source, the source goes on from there (a file copied with a word changed); otherwise
    /// the tokens that followed the latest earlier occurrence of `history`'s last n-gram,
    /// longest n-gram first. Learned edits are applied to what is copied.
    pub(super) fn draft(&mut self, history: &[LlamaToken], room: usize) -> Vec<LlamaToken> {
        let want = self.len.min(room);
        if let Some(from) = self.resume(history) {
            return self.take(history, from, want);
        }
        if self.pacing.waits() {
            return Vec::new();
        }
        if want < MIN_DRAFT {
            return Vec::new();
        }
        match latest_match(history) {
            Some(from) if Some(from) == self.next => self.take(history, from, want),
            Some(from) => self.take(history, from, MIN_DRAFT.min(want)),
            None => Vec::new(),
        }
    }

    /// Where the source the answer left goes on, if the answer's last token is found within
    /// [`RESUME_WINDOW`] tokens of where it was left; what the answer wrote instead of the
    /// source's tokens skipped is learned as an edit. Gives the source up after
    /// [`MAX_DETOUR`] tokens away from it.
    fn resume(&mut self, history: &[LlamaToken]) -> Option<usize> {
        let left = self.left?;
        let (&last, before) = history.split_last()?;
        let written = before.len().checked_sub(left.at)?;
        if written >= MAX_DETOUR || left.source >= left.at {
            self.left = None;
            return None;
        }
        let end = (left.source + RESUME_WINDOW).min(left.at);
        let found = left.source + before[left.source..end].iter().position(|&t| t == last)?;
        self.left = None;
        let edit = Edit {
            from: before[left.source..found].to_vec(),
            to: before[left.at..].to_vec(),
        };
        if !edit.from.is_empty() && edit.from != edit.to {
            self.edits.retain(|e| e.from != edit.from);
            if self.edits.len() == MAX_EDITS {
                self.edits.remove(0);
            }
            self.edits.push(edit);
        }
        Some(found + 1)
    }

    /// Up to `want` tokens copied from `history[from..]` with the learned edits applied;
    /// empty when fewer than [`MIN_DRAFT`].
    fn take(&mut self, history: &[LlamaToken], from: usize, want: usize) -> Vec<LlamaToken> {
        let (mut draft, mut sources) = (Vec::with_capacity(want), Vec::with_capacity(want));
        let mut i = from;
        while draft.len() < want && i < history.len() {
            let rest = &history[i..];
            // The latest edit learned wins.
            match self.edits.iter().rev().find(|e| rest.starts_with(&e.from)) {
                Some(edit) => {
                    draft.extend_from_slice(&edit.to);
                    sources.extend(std::iter::repeat_n(i, edit.to.len()));
                    i += edit.from.len();
                }
                None => {
                    draft.push(history[i]);
                    sources.push(i);
                    i += 1;
                }
            }
        }
        draft.truncate(want);
        sources.truncate(want);
        if draft.len() < MIN_DRAFT {
            return Vec::new();
        }
        self.drafted_at = history.len();
        self.sources = sources;
        // The token after a draft kept in full is the model's own: the source's next one
        // when it goes on copying.
        self.next = Some(i + 1);
        draft
    }

    /// After a draft of `drafted` tokens of which the first `accepted` were kept, and whether
    /// that saved time (`None`: not known; then keeping half the draft counts as saving).
    /// Drafts that do not save pause drafting for longer and longer; drafts that do shorten
    /// the pauses again.
    pub(super) fn feedback(&mut self, drafted: usize, accepted: usize, paid: Option<bool>) {
        if drafted == 0 {
            return;
        }
        // Only an answer seen copying its source has a source to come back to.
        self.left = self
            .sources
            .get(accepted)
            .filter(|_| accepted >= MIN_COPIED)
            .map(|&source| Detour {
                source,
                at: self.drafted_at + accepted,
            });
        if accepted == drafted {
            self.len = (self.len * 2).min(MAX_DRAFT);
        } else {
            self.len = accepted.max(MIN_DRAFT);
        }
        self.pacing.checked(drafted, accepted, paid);
    }
}

/// Pauses between drafts that do not pay: each one that does not pauses drafting for twice as
/// many tokens as the last pause (up to [`MAX_PAUSE`]); each one that does halves it.
#[derive(Debug)]
pub(super) struct Pacing {
    /// Tokens still to generate without drafting.
    paused: usize,
    /// How long the next pause is.
    pause: usize,
}

impl Pacing {
    pub(super) fn new() -> Self {
        Pacing {
            paused: 0,
            pause: 1,
        }
    }

    /// Whether to skip drafting for this token (counting the pause down).
    pub(super) fn waits(&mut self) -> bool {
        let waits = self.paused > 0;
        self.paused = self.paused.saturating_sub(1);
        waits
    }

    /// After a draft of `drafted` tokens of which `accepted` were kept, and whether that saved
    /// time (`None`: not known; then keeping half the draft counts as saving).
    pub(super) fn checked(&mut self, drafted: usize, accepted: usize, paid: Option<bool>) {
        self.after(paid.unwrap_or(accepted * 2 >= drafted));
    }

    /// After a draft that saved time (`paid`) or did not.
    pub(super) fn after(&mut self, paid: bool) {
        if paid {
            self.pause = (self.pause / 2).max(1);
        } else {
            self.paused = self.pause;
            self.pause = (self.pause * 2).min(MAX_PAUSE);
        }
    }
}

/// The position after the latest earlier occurrence of `history`'s last n-gram that is
/// followed by at least one token, trying the longest n-gram first.
fn latest_match(history: &[LlamaToken]) -> Option<usize> {
    (MIN_NGRAM..=MAX_NGRAM).rev().find_map(|n| {
        if history.len() <= n {
            return None;
        }
        let tail = &history[history.len() - n..];
        (0..history.len() - n)
            .rev()
            .find(|&start| &history[start..start + n] == tail)
            .map(|start| start + n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(ids: impl IntoIterator<Item = i32>) -> Vec<LlamaToken> {
        ids.into_iter().map(LlamaToken).collect()
    }

    /// `prefix`, then `n` distinct tokens that follow it, then `prefix` again.
    fn repeated(prefix: &[i32], n: i32) -> Vec<LlamaToken> {
        let mut ids = prefix.to_vec();
        ids.extend(100..100 + n);
        ids.extend_from_slice(prefix);
        tokens(ids)
    }

    const TAIL: [i32; 5] = [1, 2, 3, 4, 5];

    #[test]
    fn drafts_what_followed_the_latest_earlier_occurrence_of_the_tail() {
        let mut lookup = Lookup::new();
        // The tail came twice before; the latest was followed by 8 9 …
        let mut ids = TAIL.to_vec();
        ids.push(6);
        ids.extend(TAIL);
        ids.extend(8..30);
        ids.extend(TAIL);
        let history = tokens(ids);
        assert_eq!(lookup.draft(&history, 99), tokens(8..16));
        // Not enough room for a draft worth its call.
        assert!(lookup.draft(&history, MIN_DRAFT - 1).is_empty());
    }

    #[test]
    fn a_longer_match_wins_and_short_ones_are_not_enough() {
        let mut lookup = Lookup::new();
        // The 6-gram 0 1 2 3 4 5 occurred first; only its last five tokens occurred later.
        let mut ids = vec![0];
        ids.extend(TAIL);
        ids.extend(100..110);
        ids.push(9);
        ids.extend(TAIL);
        ids.extend(200..210);
        ids.push(0);
        ids.extend(TAIL);
        assert_eq!(lookup.draft(&tokens(ids), 99), tokens(100..108));
        // Only a 4-gram recurs: no draft.
        assert!(lookup.draft(&repeated(&[1, 2, 3, 4], 20), 99).is_empty());
        // The match is followed by fewer than MIN_DRAFT tokens: no draft.
        assert!(lookup.draft(&repeated(&TAIL, 2), 99).is_empty());
        assert_eq!(lookup.draft(&repeated(&TAIL, 8), 99).len(), 8);
    }

    #[test]
    fn only_a_draft_that_goes_on_from_a_kept_one_gets_the_grown_length() {
        let mut lookup = Lookup::new();
        let mut ids = TAIL.to_vec();
        ids.extend(100..160);
        ids.extend(TAIL);
        let mut history = tokens(ids);
        assert_eq!(lookup.draft(&history, 99), tokens(100..108));
        lookup.feedback(8, 8, Some(true));
        // The model kept all eight and then wrote the source's next token itself.
        history.extend(tokens(100..109));
        assert_eq!(lookup.draft(&history, 99), tokens(109..125));
        lookup.feedback(16, 16, Some(true));
        // A draft from elsewhere starts short again.
        let elsewhere = repeated(&[7, 7, 8, 8, 9], 40);
        assert_eq!(lookup.draft(&elsewhere, 99).len(), MIN_DRAFT);
    }

    #[test]
    fn drafts_that_do_not_pay_pause_drafting_for_longer_each_time() {
        let mut lookup = Lookup::new();
        let history = repeated(&TAIL, 40);
        assert_eq!(lookup.draft(&history, 99).len(), MIN_DRAFT);
        // Half kept counts as paying when the cost is not known yet.
        lookup.feedback(8, 4, None);
        assert_eq!(lookup.draft(&history, 99).len(), MIN_DRAFT);
        // Kept in part but slower than one by one: a pause of one token, then of two.
        lookup.feedback(8, 6, Some(false));
        assert!(lookup.draft(&history, 99).is_empty());
        assert_eq!(lookup.draft(&history, 99).len(), MIN_DRAFT);
        lookup.feedback(8, 0, Some(false));
        assert!(lookup.draft(&history, 99).is_empty());
        assert!(lookup.draft(&history, 99).is_empty());
        assert_eq!(lookup.draft(&history, 99).len(), MIN_DRAFT);
        // No draft changes nothing; a draft that pays halves the next pause (eight to four).
        lookup.feedback(8, 2, Some(false));
        lookup.feedback(0, 0, Some(false));
        for _ in 0..4 {
            assert!(lookup.draft(&history, 99).is_empty());
        }
        assert!(!lookup.draft(&history, 99).is_empty());
        lookup.feedback(8, 8, Some(true));
        lookup.feedback(8, 0, Some(false));
        for _ in 0..4 {
            assert!(lookup.draft(&history, 99).is_empty());
        }
        assert!(!lookup.draft(&history, 99).is_empty());
    }

    #[test]
    fn a_copy_that_changes_a_word_goes_on_from_its_source_and_learns_the_change() {
        let mut lookup = Lookup::new();
        // The source: 10 … 29, where 15 and 25 are the word that the answer changes to 99.
        let mut history = tokens(TAIL);
        history.extend(tokens(10..30));
        history.extend(tokens(TAIL));
        assert_eq!(lookup.draft(&history, 99), tokens(10..18));
        // The answer kept 10 … 14 and wrote 99 for 15.
        lookup.feedback(8, 5, Some(false));
        history.extend(tokens(10..15));
        history.push(LlamaToken(99));
        // 99 is not in the source near where the answer left it: no draft, no pause.
        assert!(lookup.draft(&history, 99).is_empty());
        // 16 comes after the changed word: the source goes on from 17.
        history.push(LlamaToken(16));
        assert_eq!(lookup.draft(&history, 99), tokens(17..25));
        lookup.feedback(8, 8, Some(true));
        history.extend(tokens(17..26));
        // 25 was written as 25 this time, but from now on 15 is drafted as 99.
        let mut source = tokens(TAIL);
        source.extend(tokens(10..30));
        source.extend(tokens(TAIL));
        let mut again = history.clone();
        again.extend(tokens(TAIL));
        let draft = lookup.draft(&again, 99);
        assert_eq!(&draft[..6], &tokens([10, 11, 12, 13, 14, 99])[..]);
        assert_eq!(&draft[6..], &tokens([16, 17])[..]);
    }

    #[test]
    fn costs_say_whether_a_check_saved_time() {
        let mut costs = Costs::default();
        assert_eq!(costs.paid(30.0, 5), None);
        costs.single(10.0);
        assert_eq!(costs.paid(30.0, 4), Some(true));
        assert_eq!(costs.paid(30.0, 3), Some(false));
        costs.single(20.0);
        assert_eq!(costs.paid(30.0, 3), Some(true), "the average is 11 ms");
    }
}
