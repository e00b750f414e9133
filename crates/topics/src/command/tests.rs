//! The mq command line read in both forms, with the errors a client sees.

use super::*;
use proptest::prelude::*;

pub(super) fn parsed(line: &str) -> Result<Command<'_>, CommandError> {
    // Leaked so that a topic decoded into the scratch outlives this call.
    parse(line.as_bytes(), Box::leak(Box::default()))
}

/// The topic of a line that must parse as a subscribe.
pub(super) fn subscribed(line: &str) -> &str {
    match parsed(line) {
        Ok(Command::Subscribe { topic }) => topic,
        other => panic!("{line:?} gave {other:?}"),
    }
}

pub(super) fn error(line: &str) -> String {
    match parsed(line) {
        Ok(command) => panic!("{line:?} parsed as {command:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn reads_the_seed_form_json_and_quit() {
    let send = Ok(Command::Send { topic: "foo" });
    assert_eq!(
        parsed("{'command':'send', 'topic':'foo', 'msg':'blah'}"),
        send
    );
    assert_eq!(
        parsed(r#"{"command": "send", "topic": "foo", "msg": "m"}"#),
        send
    );
    assert_eq!(
        subscribed(r#"{"command": "subscribe", "topic": "foo"}"#),
        "foo"
    );
    let unsubscribe = Ok(Command::Unsubscribe { topic: "foo" });
    assert_eq!(
        parsed(r#" {"command":"unsubscribe","topic":"foo"} "#),
        unsubscribe
    );
    assert_eq!(
        parsed("{ 'command' : 'unsubscribe', 'topic': 'foo', }"),
        unsubscribe
    );
    assert_eq!(parsed("quit"), Ok(Command::Quit));
    assert_eq!(error(" quit"), "not a JSON or Python dict");
}

#[test]
fn unescaped_topics_borrow_from_the_line() {
    for line in [
        &br#"{"command":"subscribe","topic":"foo"}"#[..],
        b"{'command':'subscribe','topic':'foo'}",
    ] {
        let mut scratch = String::new();
        let Ok(Command::Subscribe { topic }) = parse(line, &mut scratch) else {
            panic!()
        };
        assert!(line.as_ptr_range().contains(&topic.as_ptr()));
    }
}

#[test]
fn field_order_extra_keys_and_duplicates() {
    for line in [
        r#"{"msg":"m","x":{"a":[1,2.5e3,null,true,{"b":"\""}]},"topic":"foo","command":"send"}"#,
        "{'msg':'m', 'x': {'a': [1, -2.5e3, None, True, (1,), {2, 3}, {1: b'x'}]}, 1: 'y', 'topic':'foo', 'command':'send'}",
        r#"{"command":"send","topic":"bar","msg":"m","topic":"foo"}"#,
        "{'command':'send','topic':'bar','msg':'m','topic':'foo'}",
        r#"{"command":3,"command":"send","topic":"f\u006f\u006f","msg":"m","topic":"foo"}"#,
        "{'command':3,'command':'send','topic':'f\\x6f\\x6f','msg':2,'msg':'m','topic':'foo'}",
    ] {
        assert_eq!(parsed(line), Ok(Command::Send { topic: "foo" }), "{line}");
    }
    assert_eq!(
        subscribed(r#"{"command":"subscribe","topic":"foo","msg":1}"#),
        "foo"
    );
    assert_eq!(
        subscribed("{'command':'subscribe','topic':'foo','msg':None}"),
        "foo"
    );
}

#[test]
fn the_msg_of_a_send_is_read_with_its_escapes() {
    let mut scratch = SendScratch::default();
    for (line, msg) in [
        (
            r#"{"command":"send","topic":"t","msg":"plain"}"#,
            Some("plain"),
        ),
        (
            r#"{"msg":"a\"b\u00e9","command":"send","topic":"t"}"#,
            Some("a\"b\u{e9}"),
        ),
        (
            r"{'command':'send','topic':'t','msg':'it\'s\n'}",
            Some("it's\n"),
        ),
        ("{'command':'send','topic':'t','msg':b'x'}", None),
        ("{'command':'subscribe','topic':'t'}", None),
        ("not a dict", None),
    ] {
        assert_eq!(send_msg(line.as_bytes(), &mut scratch), msg, "{line}");
    }
}

#[test]
fn escapes_decode_to_the_same_topic() {
    for (line, topic) in [
        (r#"{"command":"subscribe","topic":"f\u006fo"}"#, "foo"),
        (r#"{"c\u006fmmand":"sub\u0073cribe","topic":"foo"}"#, "foo"),
        (r"{'command':'subscribe','topic':'f\x6fo'}", "foo"),
        (r"{'command':'subscribe','topic':u'f\157\u006f'}", "foo"),
        (r"{'c\x6fmmand':'sub\x73cribe','topic':'foo'}", "foo"),
        (r#"{'command':'subscribe','topic':"it's"}"#, "it's"),
        (r"{'command':'subscribe','topic':'it\'s'}", "it's"),
        (
            r#"{"command":"subscribe","topic":"say \"hi\""}"#,
            "say \"hi\"",
        ),
        (
            r#"{"command":"subscribe","topic":"日本\ud83d\ude00"}"#,
            "日本😀",
        ),
        (
            r"{'command':'subscribe','topic':'日本\U0001F600'}",
            "日本😀",
        ),
        (
            r"{'command':'subscribe','topic':'\a\b\f\n\r\t\v\0\777'}",
            "\x07\x08\x0c\n\r\t\x0b\0\u{1ff}",
        ),
        (r"{'command':'subscribe','topic':'a\qb\\'}", r"a\qb\"),
        (r"{'command':'subscribe','topic':r'a\'b'}", r"a\'b"),
    ] {
        assert_eq!(subscribed(line), topic, "{line}");
    }
}

#[test]
fn each_reason() {
    assert_eq!(
        parse(b"{\"command\":\"\xff\"}", &mut String::new()),
        Err(CommandError::InvalidUtf8)
    );
    for (line, reason) in [
        ("[1]", "not a JSON or Python dict"),
        ("\"x\"", "not a JSON or Python dict"),
        ("3", "not a JSON or Python dict"),
        ("{1, 2}", "not a JSON or Python dict"),
        ("{'command':'send'", "not a JSON or Python dict"),
        ("{'a': 1} x", "not a JSON or Python dict"),
        (r#"{"a":1} x"#, "not a JSON or Python dict"),
        (r#"{"topic":"foo"}"#, "missing 'command'"),
        ("{'topic':'foo'}", "missing 'command'"),
        (
            r#"{"command":["send"],"topic":"foo"}"#,
            "'command' must be a string",
        ),
        (
            "{'command':b'send','topic':'foo'}",
            "'command' must be a string",
        ),
        (
            r#"{"command":"foo","topic":"foo"}"#,
            "unknown command 'foo'",
        ),
        ("{'command':'foo'}", "unknown command 'foo'"),
        (r#"{"command":"subscribe"}"#, "missing 'topic'"),
        ("{'command':'unsubscribe'}", "missing 'topic'"),
        (
            r#"{"command":"subscribe","topic":null}"#,
            "'topic' must be a string",
        ),
        (
            "{'command':'send','topic':b'foo','msg':'m'}",
            "'topic' must be a string",
        ),
        (
            r#"{"command":"send","topic":"foo"}"#,
            "send needs a string 'msg'",
        ),
        (
            "{'command':'send','topic':'foo','msg':1.5}",
            "send needs a string 'msg'",
        ),
        (
            "{'command':'send','topic':'foo','msg':b'm'}",
            "send needs a string 'msg'",
        ),
    ] {
        assert_eq!(error(line), reason, "{line}");
    }
    let long = format!("{{'command':'{}'}}", "é".repeat(40));
    assert_eq!(
        error(&long),
        format!("unknown command '{}'", "é".repeat(32))
    );
}

/// Writes a string the way Python's repr does.
fn python_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => out.extend(['\\', c]),
            c if c.is_control() || (c.is_whitespace() && c != ' ') => match u32::from(c) {
                code @ ..=0xff => out.push_str(&format!("\\x{code:02x}")),
                code @ ..=0xffff => out.push_str(&format!("\\u{code:04x}")),
                code => out.push_str(&format!("\\U{code:08x}")),
            },
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn tricky_text() -> impl Strategy<Value = String> {
    let tricky = prop_oneof![
        any::<char>(),
        Just('\''),
        Just('"'),
        Just('\\'),
        Just('\n'),
        Just('\u{85}')
    ];
    proptest::collection::vec(tricky, 0..24).prop_map(String::from_iter)
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(line in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse(&line, &mut String::new());
    }

    #[test]
    fn literal_soup_never_panics(line in r#"[{}\[\]()'"\\:,. a-zA-Z0-9_+-]{0,80}"#) {
        let _ = parse(line.as_bytes(), &mut String::new());
    }

    #[test]
    fn topics_round_trip(topic in tricky_text(), msg in tricky_text()) {
        let json = serde_json::json!({"command": "send", "topic": &topic, "msg": &msg}).to_string();
        let python = format!("{{'command': 'send', 'topic': {}, 'msg': {}}}", python_repr(&topic), python_repr(&msg));
        for line in [json, python] {
            let mut scratch = String::new();
            let expected = Ok(Command::Send { topic: &topic });
            prop_assert_eq!(parse(line.as_bytes(), &mut scratch), expected, "{}", line);
            let mut scratch = SendScratch::default();
            prop_assert_eq!(send_msg(line.as_bytes(), &mut scratch), Some(msg.as_str()));
        }
    }
}
