//! The semantic roles a theme may style (themes/README.md says what each means). A role
//! missing from a theme falls back along its dotted scope, so any dotted prefix of a role
//! (`chat`, `markdown.heading`) is a valid name too.

/// Every role the TUI asks for, in the order themes/README.md documents them.
pub const ROLES: &[&str] = &[
    "text",
    "text.dim",
    "chat.user",
    "chat.user.label",
    "chat.assistant",
    "chat.assistant.label",
    "chat.meta",
    "chat.notice",
    "chat.stopped",
    "chat.error",
    "chat.tool",
    "chat.tool.label",
    "markdown.heading",
    "markdown.heading.1",
    "markdown.heading.2",
    "markdown.heading.3",
    "markdown.heading.4",
    "markdown.heading.5",
    "markdown.heading.6",
    "markdown.emphasis",
    "markdown.strong",
    "markdown.strikethrough",
    "markdown.code",
    "markdown.code_block",
    "markdown.code_block.label",
    "markdown.quote",
    "markdown.link",
    "markdown.list_marker",
    "markdown.table",
    "markdown.table.border",
    "markdown.rule",
    "border",
    "border.focus",
    "title",
    "title.focus",
    "tab",
    "tab.active",
    "status",
    "status.model",
    "status.busy",
    "status.error",
    "composer",
    "composer.prompt",
    "composer.placeholder",
    "popup",
    "popup.selected",
    "selection",
    "gauge",
    "search.match",
    "help.key",
    "help.section",
    "warning",
    "error",
];

/// Whether `name` is a role or a dotted prefix of one.
pub fn is_known(name: &str) -> bool {
    ROLES.iter().any(|role| {
        role.strip_prefix(name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    })
}

/// The known role closest to a misspelt `name`, when one is close enough to be a typo.
pub fn suggest(name: &str) -> Option<&'static str> {
    let limit = (name.chars().count() / 4).clamp(1, 3);
    ROLES
        .iter()
        .map(|role| (edit_distance(name, role), *role))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, role)| role)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substituted = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substituted.min(diagonal + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_their_prefixes_are_known() {
        let known = [
            "text",
            "chat",
            "chat.user.label",
            "markdown.heading",
            "help",
        ];
        let unknown = [
            "chat.usr",
            "chat.user.label.x",
            "markdown.head",
            "colour",
            "",
        ];
        assert_eq!(known.map(is_known), [true; 5]);
        assert_eq!(unknown.map(is_known), [false; 5]);
    }

    #[test]
    fn typos_get_a_suggestion() {
        let got = ["chat.usr", "boarder.focus", "selction", "zzz"].map(suggest);
        assert_eq!(
            got,
            [
                Some("chat.user"),
                Some("border.focus"),
                Some("selection"),
                None
            ]
        );
    }
}
