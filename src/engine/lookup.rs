//! Prompt-lookup decoding: drafts taken from the tokens already in the context, with no
//! second model. When the answer's last few tokens appeared earlier (the question quoted, a
//! file being rewritten, a list that repeats its pattern), the tokens that followed them then
//! are guessed to follow now. The target model checks a whole draft in one batch, and only
//! what it would have produced itself is kept (`turn.rs`), so the answer is the same as
//! without drafts; only the number of decode calls changes.

use llama_cpp_2::token::LlamaToken;

/// The longest n-gram looked up; longer matches are tried first.
const MAX_NGRAM: usize = 5;
/// The shortest n-gram looked up: shorter ones recur by chance too often to be worth a draft.
const MIN_NGRAM: usize = 3;
/// The fewest tokens worth a draft. On a CPU a decode call of a few tokens costs about as
/// much as that many calls of one (`cargo bench --bench verify`); only longer drafts save.
const MIN_DRAFT: usize = 8;
/// The most tokens drafted at once.
const MAX_DRAFT: usize = 32;
/// The most tokens generated without drafting after drafts failed.
const MAX_PAUSE: usize = 32;

/// Proposes drafts, and adapts to how many the model accepts.
#[derive(Debug)]
pub(super) struct Lookup {
    /// The draft length now: doubles while whole drafts are accepted, falls to what was
    /// accepted when they are not.
    len: usize,
    /// Tokens to generate without drafting, after a draft that mostly failed.
    paused: usize,
    /// How long the next pause is: doubles with each failed draft, resets after a good one.
    pause: usize,
}

impl Lookup {
    pub(super) fn new() -> Self {
        Lookup {
            len: MIN_DRAFT,
            paused: 0,
            pause: 1,
        }
    }

    /// Up to `room` (and the current draft length) tokens that followed the latest earlier
    /// occurrence of `history`'s last n-gram, longest n-gram first; empty when none occurs,
    /// when fewer than [`MIN_DRAFT`] would be drafted, or while paused.
    pub(super) fn draft(&mut self, history: &[LlamaToken], room: usize) -> Vec<LlamaToken> {
        if self.paused > 0 {
            self.paused -= 1;
            return Vec::new();
        }
        let want = self.len.min(room);
        if want < MIN_DRAFT {
            return Vec::new();
        }
        for n in (MIN_NGRAM..=MAX_NGRAM).rev() {
            if history.len() <= n {
                continue;
            }
            let tail = &history[history.len() - n..];
            // The latest occurrence that is followed by at least one token, not the tail itself.
            let found = (0..history.len() - n)
                .rev()
                .find(|&start| &history[start..start + n] == tail);
            if let Some(start) = found {
                let from = start + n;
                let to = (from + want).min(history.len());
                if to - from < MIN_DRAFT {
                    return Vec::new();
                }
                return history[from..to].to_vec();
            }
        }
        Vec::new()
    }

    /// After a draft of `drafted` tokens of which the first `accepted` were kept.
    pub(super) fn feedback(&mut self, drafted: usize, accepted: usize) {
        if drafted == 0 {
            return;
        }
        if accepted == drafted {
            self.len = (self.len * 2).min(MAX_DRAFT);
        } else {
            self.len = accepted.max(MIN_DRAFT);
        }
        if accepted * 2 < drafted {
            self.paused = self.pause;
            self.pause = (self.pause * 2).min(MAX_PAUSE);
        } else {
            self.pause = 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(ids: &[i32]) -> Vec<LlamaToken> {
        ids.iter().map(|&id| LlamaToken(id)).collect()
    }

    /// `prefix`, then `n` distinct tokens that follow it, then `prefix` again.
    fn repeated(prefix: &[i32], n: i32) -> Vec<LlamaToken> {
        let mut ids = prefix.to_vec();
        ids.extend(100..100 + n);
        ids.extend_from_slice(prefix);
        tokens(&ids)
    }

    #[test]
    fn drafts_what_followed_the_latest_earlier_occurrence_of_the_tail() {
        let mut lookup = Lookup::new();
        // "1 2 3" came twice before; the latest was followed by 8 9 …
        let mut ids = vec![1, 2, 3, 4, 5, 1, 2, 3];
        ids.extend(8..30);
        ids.extend([1, 2, 3]);
        let history = tokens(&ids);
        assert_eq!(
            lookup.draft(&history, 99),
            tokens(&(8..16).collect::<Vec<_>>())
        );
        // Not enough room for a draft worth its call.
        assert!(lookup.draft(&history, MIN_DRAFT - 1).is_empty());
    }

    #[test]
    fn a_longer_match_wins_and_short_ones_are_not_enough() {
        let mut lookup = Lookup::new();
        // The 4-gram "4 5 6 7" occurred first; only its last three tokens occurred later.
        let mut ids = vec![4, 5, 6, 7];
        ids.extend(100..110);
        ids.extend([9, 5, 6, 7]);
        ids.extend(200..210);
        ids.extend([4, 5, 6, 7]);
        assert_eq!(
            lookup.draft(&tokens(&ids), 99),
            tokens(&(100..108).collect::<Vec<_>>())
        );
        // Only a 2-gram recurs: no draft.
        assert!(lookup.draft(&repeated(&[1, 2], 20), 99).is_empty());
        // The match is followed by fewer than MIN_DRAFT tokens: no draft.
        assert!(lookup.draft(&repeated(&[1, 2, 3], 4), 99).is_empty());
        assert_eq!(lookup.draft(&repeated(&[1, 2, 3], 8), 99).len(), 8);
    }

    #[test]
    fn the_draft_length_follows_the_acceptance_and_failures_pause_drafting() {
        let mut lookup = Lookup::new();
        let history = repeated(&[1, 2, 3], 40);
        assert_eq!(lookup.draft(&history, 99).len(), MIN_DRAFT);
        lookup.feedback(8, 8);
        assert_eq!(lookup.draft(&history, 99).len(), 16);
        lookup.feedback(16, 16);
        lookup.feedback(32, 32);
        assert_eq!(lookup.draft(&history, 99).len(), MAX_DRAFT);
        // Most of it kept: the length falls to what was kept, no pause.
        lookup.feedback(32, 20);
        assert_eq!(lookup.draft(&history, 99).len(), 20);
        // Most of it rejected: a pause of one token, then of two.
        lookup.feedback(20, 3);
        assert!(lookup.draft(&history, 99).is_empty());
        assert_eq!(lookup.draft(&history, 99).len(), MIN_DRAFT);
        lookup.feedback(8, 0);
        assert!(lookup.draft(&history, 99).is_empty());
        assert!(lookup.draft(&history, 99).is_empty());
        assert_eq!(lookup.draft(&history, 99).len(), MIN_DRAFT);
        // A good draft ends the pauses; no draft changes nothing.
        lookup.feedback(8, 8);
        lookup.feedback(0, 0);
        assert_eq!(lookup.draft(&history, 99).len(), 16);
    }
}
