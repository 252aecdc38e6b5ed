//! The tool budget: which of the tools on offer go into one prompt.
//!
//! Every tool definition is read before every answer, so with many plugins enabled they
//! would crowd out the conversation, or not fit at all. The tools are offered within a
//! budget of tokens: all of them when they fit (in their own, stable order, so the prompt's
//! prefix stays cached from turn to turn), else the most relevant to the question first
//! (see `tools::rank`) until the budget is spent, still written in their own order.
//! Invariant: the budget never takes the room the question itself needs.

use llama_cpp_2::model::LlamaModel;

use super::tools::{ToolGroup, ToolPrompt, definition};
use crate::tools::ToolSpec;

/// What a tool section costs beyond its definitions: the instructions around them.
pub const SECTION_OVERHEAD: u32 = 160;

/// The budget when the config leaves it to the engine: this share of the context.
pub const DEFAULT_SHARE: f64 = 0.45;

/// One tool's part in a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCost {
    /// The name the model calls it by.
    pub name: String,
    /// Tokens its definition takes.
    pub tokens: u32,
    /// Whether it was offered.
    pub offered: bool,
    /// Whether its group's definitions take more than the group's cap (so it was not).
    pub over_cap: bool,
}

/// The tools chosen for one prompt, with every tool's cost.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolOffer {
    /// Every tool on offer, in its own order.
    pub costs: Vec<ToolCost>,
    /// The budget the choice was made in, in tokens.
    pub budget: u32,
}

impl ToolOffer {
    /// The tools offered, in their own order.
    pub fn offered(&self, tools: &[ToolSpec]) -> Vec<ToolSpec> {
        tools
            .iter()
            .zip(&self.costs)
            .filter(|(_, c)| c.offered)
            .map(|(t, _)| t.clone())
            .collect()
    }
}

/// Tokens each tool's definition takes, with the model's tokenizer.
pub fn costs(model: &LlamaModel, tools: &[ToolSpec]) -> Vec<u32> {
    tools
        .iter()
        .map(|tool| {
            let text = definition(tool);
            model.vocab().tokenize(text.as_bytes(), false, false).len() as u32 + 1
        })
        .collect()
}

/// Tokens each tool's definition takes, estimated from its length (about four characters a
/// token), where the model's tokenizer is not at hand (a remote server's model).
pub fn estimated_costs(tools: &[ToolSpec]) -> Vec<u32> {
    tools
        .iter()
        .map(|tool| definition(tool).len().div_ceil(4) as u32 + 1)
        .collect()
}

/// The offer's tools within the budget that `room` tokens allow, given each tool's `costs`,
/// and how they were chosen.
pub fn choose_tools(
    offer: &ToolPrompt,
    costs: Vec<u32>,
    n_ctx: u32,
    room: u32,
) -> (ToolOffer, Vec<ToolSpec>) {
    let limit = budget(offer, n_ctx, room);
    let over = over_caps(&costs, &offer.caps);
    let chosen = choose(&costs, &order(offer), limit, &over);
    let offer_made = ToolOffer {
        costs: offer
            .tools
            .iter()
            .zip(costs)
            .zip(chosen)
            .zip(over)
            .map(|(((tool, tokens), offered), over_cap)| ToolCost {
                name: tool.name.clone(),
                tokens,
                offered,
                over_cap,
            })
            .collect(),
        budget: limit,
    };
    let tools = offer_made.offered(&offer.tools);
    (offer_made, tools)
}

/// The budget for an offer when `room` tokens are left once the question and the answer's
/// reserve are counted: the configured budget (0: a share of the context), never more than
/// the room.
pub fn budget(offer: &ToolPrompt, n_ctx: u32, room: u32) -> u32 {
    let configured = match offer.budget {
        0 => (f64::from(n_ctx) * DEFAULT_SHARE) as u32,
        n => n,
    };
    configured.min(room.saturating_sub(SECTION_OVERHEAD))
}

/// The order in which `offer`'s tools are taken when not all fit: by priority, then any not
/// named there; with `callable` set, only the tools the question may call (the others would
/// only take room).
pub fn order(offer: &ToolPrompt) -> Vec<usize> {
    let rest = (0..offer.tools.len()).filter(|i| !offer.priority.contains(i));
    offer
        .priority
        .iter()
        .copied()
        .filter(|&i| i < offer.tools.len())
        .chain(rest)
        .filter(|&i| offer.callable.get(i).copied().unwrap_or(true))
        .collect()
}

/// Which tools belong to a group whose definitions take more than its cap together.
pub fn over_caps(costs: &[u32], groups: &[ToolGroup]) -> Vec<bool> {
    let mut over = vec![false; costs.len()];
    for group in groups {
        let total: u32 = group.tools.iter().filter_map(|&i| costs.get(i)).sum();
        if total > group.cap {
            for &i in group.tools.iter().filter(|&&i| i < costs.len()) {
                over[i] = true;
            }
        }
    }
    over
}

/// Chooses within `budget`, never a tool `excluded`: every other tool when they all fit,
/// else the tools in `order` while they fit; a tool too big to fit is passed over.
pub fn choose(costs: &[u32], order: &[usize], budget: u32, excluded: &[bool]) -> Vec<bool> {
    let out = |i: usize| excluded.get(i).copied().unwrap_or(false);
    let total: u32 = (0..costs.len())
        .filter(|&i| !out(i))
        .map(|i| costs[i])
        .sum();
    if total <= budget {
        return (0..costs.len()).map(|i| !out(i)).collect();
    }
    let mut chosen = vec![false; costs.len()];
    let mut spent = 0u32;
    for &i in order.iter().filter(|&&i| i < costs.len() && !out(i)) {
        if spent + costs[i] <= budget {
            spent += costs[i];
            chosen[i] = true;
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_over_its_cap_is_not_offered_and_leaves_room_for_the_rest() {
        let groups = [
            ToolGroup {
                tools: vec![0, 1],
                cap: 25,
            },
            ToolGroup {
                tools: vec![2],
                cap: 30,
            },
        ];
        let over = over_caps(&[10, 20, 30], &groups);
        assert_eq!(over, [true, true, false]);
        // What is left fits the budget, so all of it is offered; nothing over its cap is.
        assert_eq!(
            choose(&[10, 20, 30], &[0, 1, 2], 30, &over),
            [false, false, true]
        );
        assert_eq!(
            choose(&[10, 20, 30], &[1, 2, 0], 40, &[false, false, true]),
            [true, true, false]
        );
    }

    #[test]
    fn everything_is_offered_when_it_fits() {
        assert_eq!(
            choose(&[10, 20, 30], &[2, 1, 0], 60, &[]),
            [true, true, true]
        );
    }

    #[test]
    fn over_budget_the_most_relevant_go_first() {
        assert_eq!(
            choose(&[10, 20, 30], &[2, 0, 1], 45, &[]),
            [true, false, true]
        );
        // A tool too big for what is left is passed over for smaller ones after it.
        assert_eq!(
            choose(&[10, 40, 30], &[2, 1, 0], 45, &[]),
            [true, false, true]
        );
        assert_eq!(choose(&[10, 20], &[1], 5, &[]), [false, false]);
    }

    #[test]
    fn the_order_is_the_priority_then_the_rest_and_only_what_may_be_called() {
        let tool = |name: &str| ToolSpec::new(name, "", serde_json::json!({}));
        let mut offer = ToolPrompt {
            tools: vec![tool("a"), tool("b"), tool("c")],
            grammar: true,
            answer_only: false,
            must_call: false,
            priority: vec![2],
            callable: Vec::new(),
            budget: 0,
            caps: Vec::new(),
            call_max_tokens: 0,
        };
        assert_eq!(order(&offer), [2, 0, 1]);
        offer.callable = vec![true, false, true];
        assert_eq!(order(&offer), [2, 0]);
    }

    #[test]
    fn the_budget_never_takes_the_questions_room() {
        let offer = ToolPrompt {
            tools: Vec::new(),
            grammar: true,
            answer_only: false,
            must_call: false,
            priority: Vec::new(),
            callable: Vec::new(),
            budget: 0,
            caps: Vec::new(),
            call_max_tokens: 0,
        };
        assert_eq!(budget(&offer, 4096, 4000), 1843);
        assert_eq!(budget(&offer, 4096, 1000), 1000 - SECTION_OVERHEAD);
        assert_eq!(budget(&offer, 4096, 100), 0);
        let fixed = ToolPrompt {
            budget: 500,
            ..offer
        };
        assert_eq!(budget(&fixed, 4096, 4000), 500);
    }
}
