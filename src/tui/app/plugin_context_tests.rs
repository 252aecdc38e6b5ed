//! Plugins' prompts and resources in the app: the menu, a prompt run as a slash command, a
//! resource attached with `@`, and a refusal that gives the typed text back.

use libre_assistant::core::{Event, Op};
use libre_assistant::plugins::host::HostEvent;
use libre_assistant::plugins::host::context::{
    Answer, Ask, PromptArg, PromptInfo, ResourceInfo, ResourceText,
};

use super::tests::{ask, harness, screen};

fn listed(t: &mut super::tests::Harness) {
    t.app.on_core(Event::Plugin(HostEvent::Tools {
        plugin: "everything".into(),
        tools: Vec::new(),
    }));
    let asks: Vec<Op> = std::iter::from_fn(|| t.ops.try_recv().ok()).collect();
    assert_eq!(
        asks,
        [Ask::Prompts, Ask::Resources].map(|ask| Op::Ask {
            plugin: "everything".into(),
            ask
        })
    );
    t.app.on_core(Event::Asked {
        plugin: "everything".into(),
        ask: Ask::Prompts,
        answer: Ok(Answer::Prompts(vec![PromptInfo {
            name: "args-prompt".into(),
            description: Some("A prompt with \u{1b}[31mtwo arguments".into()),
            arguments: vec![PromptArg {
                name: "city".into(),
                description: None,
                required: true,
            }],
        }])),
    });
    t.app.on_core(Event::Asked {
        plugin: "everything".into(),
        ask: Ask::Resources,
        answer: Ok(Answer::Resources(vec![ResourceInfo {
            uri: "demo://doc/architecture.md".into(),
            name: "architecture.md".into(),
            description: None,
            mime_type: None,
            template: false,
        }])),
    });
}

#[test]
fn a_plugin_prompt_runs_as_a_slash_command_and_its_messages_are_sent() {
    let mut t = harness("dark");
    listed(&mut t);
    t.app.state.composer.insert_str("/every");
    let menu = screen(&mut t.app, 80, 24);
    assert!(menu.contains("/everything:args-prompt city=…"), "{menu}");
    assert!(!menu.contains('\u{1b}'), "{menu}");
    t.app.state.composer.take();
    ask(&mut t.app, "/everything:args-prompt city=Paris");
    let Ok(Op::Ask {
        plugin,
        ask: Ask::Prompt { name, arguments },
    }) = t.ops.try_recv()
    else {
        panic!("the prompt is asked for");
    };
    assert_eq!(
        (plugin.as_str(), name.as_str()),
        ("everything", "args-prompt")
    );
    assert_eq!(arguments["city"], "Paris");
    t.app.on_core(Event::Asked {
        plugin: "everything".into(),
        ask: Ask::Prompts,
        answer: Ok(Answer::Prompt(vec![(
            true,
            "What's weather in Paris?".into(),
        )])),
    });
    assert_eq!(
        t.ops.try_recv().ok(),
        Some(Op::Submit {
            text: "What's weather in Paris?".into()
        })
    );
}

#[test]
fn an_at_resource_is_picked_from_the_menu_and_its_text_attached() {
    let mut t = harness("dark");
    listed(&mut t);
    t.app.state.composer.insert_str("Summarize @arch");
    let menu = screen(&mut t.app, 80, 24);
    assert!(
        menu.contains("@everything:demo://doc/architecture.md"),
        "{menu}"
    );
    t.app.act(super::action::Action::NextPane);
    assert_eq!(
        t.app.state.composer.text(),
        "Summarize @everything:demo://doc/architecture.md "
    );
    t.app.act(super::action::Action::Submit);
    let Ok(Op::Ask {
        ask: Ask::Read { uri },
        ..
    }) = t.ops.try_recv()
    else {
        panic!("the resource is read");
    };
    assert_eq!(uri, "demo://doc/architecture.md");
    t.app.on_core(Event::Asked {
        plugin: "everything".into(),
        ask: Ask::Read { uri: uri.clone() },
        answer: Ok(Answer::Read(ResourceText {
            uri,
            mime_type: None,
            text: "# Architecture".into(),
        })),
    });
    let Ok(Op::Submit { text }) = t.ops.try_recv() else {
        panic!("the message is sent");
    };
    assert!(
        text.starts_with("Summarize @everything:demo://doc/architecture.md"),
        "{text}"
    );
    assert!(
        text.ends_with("<resource plugin=\"everything\" uri=\"demo://doc/architecture.md\">\n# Architecture\n</resource>"),
        "{text}"
    );
    let chat = screen(&mut t.app, 160, 24);
    assert!(
        chat.contains("attached @everything:demo://doc/architecture.md (14 characters)"),
        "{chat}"
    );
}

#[test]
fn a_refused_prompt_gives_the_typed_text_back() {
    let mut t = harness("dark");
    listed(&mut t);
    ask(&mut t.app, "/everything:args-prompt");
    let _ = t.ops.try_recv();
    t.app.on_core(Event::Asked {
        plugin: "everything".into(),
        ask: Ask::Prompts,
        answer: Err("the plugin refused the call: city is required".into()),
    });
    assert_eq!(t.app.state.composer.text(), "/everything:args-prompt");
    assert!(t.ops.try_recv().is_err(), "nothing is sent");
    let status = screen(&mut t.app, 80, 24);
    assert!(status.contains("city is required"), "{status}");
}

/// Types `text` key by key, as a person would.
fn type_keys(t: &mut super::tests::Harness, text: &str) {
    for c in text.chars() {
        let key = crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char(c),
            crossterm::event::KeyModifiers::NONE,
        );
        t.app.on_key(key);
    }
}

fn complete(value: &str) -> Ask {
    Ask::Complete {
        prompt: "args-prompt".into(),
        argument: "city".into(),
        value: value.into(),
        given: Vec::new(),
    }
}

#[test]
fn a_prompt_argument_is_completed_from_the_values_its_plugin_offers() {
    let mut t = harness("dark");
    listed(&mut t);
    type_keys(&mut t, "/everything:args-prompt city=P");
    // Asked once the argument is typed, then again for each new character of its value.
    let asks: Vec<Op> = std::iter::from_fn(|| t.ops.try_recv().ok()).collect();
    let plugin = || "everything".to_string();
    assert_eq!(
        asks,
        [
            Op::Ask {
                plugin: plugin(),
                ask: complete("")
            },
            Op::Ask {
                plugin: plugin(),
                ask: complete("P")
            },
        ]
    );
    t.app.on_core(Event::Asked {
        plugin: plugin(),
        ask: complete("P"),
        answer: Ok(Answer::Completions(vec![
            "Paris".into(),
            "Panama City".into(),
            "Say \"hi\"".into(),
        ])),
    });
    let menu = screen(&mut t.app, 80, 24);
    assert!(menu.contains("city=Paris"), "{menu}");
    assert!(menu.contains("city=\"Panama City\""), "{menu}");
    assert!(
        !menu.contains("Say"),
        "a value with a quote cannot be typed: {menu}"
    );
    // Before the plugin answers for "Par", what it offered for "P" narrows to one.
    type_keys(&mut t, "ar");
    t.app.act(super::action::Action::NextPane);
    assert_eq!(
        t.app.state.composer.text(),
        "/everything:args-prompt city=Paris "
    );
    // An argument the prompt does not declare is not asked about.
    let _: Vec<Op> = std::iter::from_fn(|| t.ops.try_recv().ok()).collect();
    type_keys(&mut t, "zip=1");
    assert_eq!(t.ops.try_recv().ok(), None);
}

#[test]
fn an_attached_resource_that_changes_is_said_once() {
    let mut t = harness("dark");
    listed(&mut t);
    let _: Vec<Op> = std::iter::from_fn(|| t.ops.try_recv().ok()).collect();
    ask(
        &mut t.app,
        "Summarize @everything:demo://doc/architecture.md",
    );
    let uri = "demo://doc/architecture.md".to_string();
    let _ = t.ops.try_recv();
    t.app.on_core(Event::Asked {
        plugin: "everything".into(),
        ask: Ask::Read { uri: uri.clone() },
        answer: Ok(Answer::Read(ResourceText {
            uri: uri.clone(),
            mime_type: None,
            text: "# Architecture".into(),
        })),
    });
    let sent: Vec<Op> = std::iter::from_fn(|| t.ops.try_recv().ok()).collect();
    assert!(
        sent.contains(&Op::Ask {
            plugin: "everything".into(),
            ask: Ask::Subscribe { uri: uri.clone() },
        }),
        "{sent:?}"
    );
    let changed = || {
        Event::Plugin(HostEvent::ResourceUpdated {
            plugin: "everything".into(),
            uri: "demo://doc/architecture.md".into(),
        })
    };
    t.app.on_core(changed());
    t.app.on_core(changed());
    let chat = screen(&mut t.app, 200, 30);
    let said = "@everything:demo://doc/architecture.md changed since it was attached";
    assert_eq!(chat.matches(said).count(), 1, "{chat}");
}
