//! Tools over MCP, through the real `hearth` binary: the loopback fake provider plays a
//! model that calls tools (each protocol, arguments streamed in pieces), and the official
//! Python MCP SDK's server (tests/data/mcp/python_server.py) runs them, logging every call
//! it really runs. Approval works as named, a call nobody approved never runs, faults are
//! clear errors with everything kept and no process left behind, and a server's secrets
//! never reach the disk in the clear.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hearth_tests::fake_provider::*;
use hearth_tests::*;
use serde_json::{json, Value};

const PASS: &str = "tools test passphrase";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum P {
    OpenAi,
    Anthropic,
    Gemini,
}

const ALL: [P; 3] = [P::OpenAi, P::Anthropic, P::Gemini];

impl P {
    fn kind(self) -> &'static str {
        match self {
            P::OpenAi => "openai-compatible",
            P::Anthropic => "anthropic",
            P::Gemini => "gemini",
        }
    }

    fn segment(self) -> &'static str {
        match self {
            P::Gemini => "/v1beta",
            _ => "/v1",
        }
    }
}

fn python() -> PathBuf {
    let p = std::env::var_os("HEARTH_MCP_PYTHON")
        .map(PathBuf::from)
        .expect("HEARTH_MCP_PYTHON names the MCP SDK's Python (scripts/test.sh sets it)");
    assert!(p.exists(), "{} is missing", p.display());
    p
}

fn server_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/mcp/python_server.py")
}

fn hearth(t: &TestDir) -> Command {
    let mut cmd = t.hearth();
    without_dbus(&mut cmd).env("HEARTH_PASSPHRASE", PASS);
    cmd
}

/// A test vault using `fake` as provider `p`, and the Python server added as `files`,
/// logging its calls to the returned path. The marker is on the server's command line,
/// so the process table shows whether one is left.
struct Setup {
    t: TestDir,
    log: PathBuf,
    marker: String,
}

fn setup(fake: &FakeProvider, p: P) -> Setup {
    let t = TestDir::new();
    run_ok(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    use_mock_provider(|| hearth(&t), p.kind(), &fake.base_url(p.segment()));
    let r = run_with_input(
        hearth(&t).args(["key", "set", "mock"]),
        b"sk-tools-test-key",
    );
    assert!(r.ok(), "{r:?}");
    let log = t.root.path().join("calls.log");
    let marker = format!("hearth-tools-test-{}", std::process::id());
    let marker = format!("{marker}-{}", t.root.path().display());
    run_ok(
        hearth(&t)
            .args(["tool", "add", "files", "--env"])
            .arg(format!("MCP_CALL_LOG={}", log.display()))
            .arg("--")
            .arg(python())
            .arg(server_script())
            .args(["stdio", &marker]),
    );
    Setup { t, log, marker }
}

impl Setup {
    fn hearth(&self) -> Command {
        hearth(&self.t)
    }

    /// The calls the server really ran.
    fn ran(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Processes whose command line carries this test's marker.
    fn leftovers(&self) -> Vec<String> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if text.contains(&self.marker) {
                found.push(format!("{}: {text}", entry.file_name().to_string_lossy()));
            }
        }
        found
    }

    fn assert_no_leftovers(&self) {
        // A killed group is reaped before hearth exits; allow the kernel a moment.
        for _ in 0..50 {
            if self.leftovers().is_empty() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("processes left behind: {:?}", self.leftovers());
    }

    fn only_conversation(&self) -> String {
        let r = run_ok(self.hearth().args(["list", "--json"]));
        let list: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        list[0]["id"].as_str().unwrap().to_owned()
    }

    fn shown(&self, id: &str) -> Value {
        let r = run_ok(self.hearth().args(["show", id, "--format", "json"]));
        serde_json::from_str(&r.stdout).unwrap()
    }

    /// Every stored call of the conversation's visible replies.
    fn calls(&self, id: &str) -> Vec<Value> {
        self.shown(id)["messages"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|m| m["tool_calls"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}

fn sse_of(events: &[(Option<&str>, Value)]) -> Vec<u8> {
    let mut out = String::new();
    for (name, data) in events {
        if let Some(name) = name {
            out.push_str(&format!("event: {name}\n"));
        }
        out.push_str(&format!("data: {data}\n\n"));
    }
    out.into_bytes()
}

/// A body cut into pieces of `n` bytes, so events arrive split anywhere.
fn pieces(bytes: &[u8], n: usize) -> Vec<Vec<u8>> {
    bytes.chunks(n).map(<[u8]>::to_vec).collect()
}

/// A streamed reply that calls `name` with `arguments`, given in `parts` (their
/// concatenation is the arguments' JSON text).
fn call_reply(p: P, id: &str, name: &str, parts: &[&str]) -> Reply {
    let body = match p {
        P::OpenAi => {
            let mut events = vec![(
                None,
                json!({"choices":[{"index":0,"delta":{"role":"assistant","content":null,
                    "tool_calls":[{"index":0,"id":id,"type":"function",
                    "function":{"name":name,"arguments":""}}]}}]}),
            )];
            for part in parts {
                events.push((
                    None,
                    json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,
                        "function":{"arguments":part}}]}}]}),
                ));
            }
            events.push((
                None,
                json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}),
            ));
            let mut bytes = sse_of(&events);
            bytes.extend_from_slice(b"data: [DONE]\n\n");
            bytes
        }
        P::Anthropic => {
            let mut events = vec![
                (
                    Some("message_start"),
                    json!({"type":"message_start","message":{"id":"msg_1","type":"message",
                        "role":"assistant","content":[],"model":"test-model",
                        "usage":{"input_tokens":5,"output_tokens":1}}}),
                ),
                (
                    Some("content_block_start"),
                    json!({"type":"content_block_start","index":0,
                        "content_block":{"type":"tool_use","id":id,"name":name,"input":{}}}),
                ),
            ];
            for part in parts {
                events.push((
                    Some("content_block_delta"),
                    json!({"type":"content_block_delta","index":0,
                        "delta":{"type":"input_json_delta","partial_json":part}}),
                ));
            }
            events.extend([
                (
                    Some("content_block_stop"),
                    json!({"type":"content_block_stop","index":0}),
                ),
                (
                    Some("message_delta"),
                    json!({"type":"message_delta","delta":{"stop_reason":"tool_use"},
                        "usage":{"output_tokens":9}}),
                ),
                (Some("message_stop"), json!({"type":"message_stop"})),
            ]);
            sse_of(&events)
        }
        P::Gemini => {
            // Gemini sends a call whole; its stream is cut into pieces instead.
            let text: String = parts.concat();
            let args: Value = serde_json::from_str(&text).unwrap_or(json!({}));
            sse_of(&[(
                None,
                json!({"candidates":[{"content":{"role":"model","parts":[
                    {"functionCall":{"name":name,"args":args,"id":id},
                     "thoughtSignature":"c2lnbmF0dXJlLW9mLXRoZS10aG91Z2h0"}]},
                    "finishReason":"STOP"}],
                    "usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3}}),
            )])
        }
    };
    Reply::sse(pieces(&body, 7))
}

/// A streamed reply that answers `text` in two pieces.
fn text_reply(p: P, text: &str) -> Reply {
    let (a, b) = text.split_at(text.len() / 2);
    let body = match p {
        P::OpenAi => {
            let mut bytes = sse_of(&[
                (None, json!({"choices":[{"index":0,"delta":{"content":a}}]})),
                (None, json!({"choices":[{"index":0,"delta":{"content":b}}]})),
                (
                    None,
                    json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}),
                ),
            ]);
            bytes.extend_from_slice(b"data: [DONE]\n\n");
            bytes
        }
        P::Anthropic => sse_of(&[
            (
                Some("message_start"),
                json!({"type":"message_start","message":{"id":"msg_2","type":"message",
                    "role":"assistant","content":[],"model":"test-model",
                    "usage":{"input_tokens":9,"output_tokens":1}}}),
            ),
            (
                Some("content_block_start"),
                json!({"type":"content_block_start","index":0,
                    "content_block":{"type":"text","text":""}}),
            ),
            (
                Some("content_block_delta"),
                json!({"type":"content_block_delta","index":0,
                    "delta":{"type":"text_delta","text":a}}),
            ),
            (
                Some("content_block_delta"),
                json!({"type":"content_block_delta","index":0,
                    "delta":{"type":"text_delta","text":b}}),
            ),
            (
                Some("content_block_stop"),
                json!({"type":"content_block_stop","index":0}),
            ),
            (
                Some("message_delta"),
                json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},
                    "usage":{"output_tokens":4}}),
            ),
            (Some("message_stop"), json!({"type":"message_stop"})),
        ]),
        P::Gemini => sse_of(&[
            (
                None,
                json!({"candidates":[{"content":{"role":"model","parts":[{"text":a}]}}]}),
            ),
            (
                None,
                json!({"candidates":[{"content":{"role":"model","parts":[{"text":b}]},
                    "finishReason":"STOP"}]}),
            ),
        ]),
    };
    Reply::sse(pieces(&body, 5))
}

/// The turns of a request body, whatever the protocol calls them.
fn turns(p: P, body: &Value) -> Vec<Value> {
    let key = if p == P::Gemini {
        "contents"
    } else {
        "messages"
    };
    body[key].as_array().cloned().unwrap_or_default()
}

/// Whether the request's last turn carries tool results (the model's call was answered).
fn answered(p: P, body: &Value) -> bool {
    let turns = turns(p, body);
    let Some(last) = turns.last() else {
        return false;
    };
    match p {
        P::OpenAi => last["role"] == "tool",
        P::Anthropic => last["content"][0]["type"] == "tool_result",
        P::Gemini => last["parts"][0].get("functionResponse").is_some(),
    }
}

/// The results the request's last turn carries: (call id, content, is error).
fn results(p: P, body: &Value) -> Vec<(String, String, bool)> {
    let turns = turns(p, body);
    match p {
        P::OpenAi => turns
            .iter()
            .rev()
            .take_while(|t| t["role"] == "tool")
            .map(|t| {
                (
                    t["tool_call_id"].as_str().unwrap().to_owned(),
                    t["content"].as_str().unwrap().to_owned(),
                    false,
                )
            })
            .collect(),
        P::Anthropic => turns.last().unwrap()["content"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "tool_result")
            .map(|b| {
                (
                    b["tool_use_id"].as_str().unwrap().to_owned(),
                    b["content"].as_str().unwrap().to_owned(),
                    b["is_error"] == true,
                )
            })
            .collect(),
        P::Gemini => turns.last().unwrap()["parts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|part| part.get("functionResponse"))
            .map(|f| {
                let (text, error) = match f["response"].get("result") {
                    Some(r) => (r.as_str().unwrap().to_owned(), false),
                    None => (f["response"]["error"].as_str().unwrap().to_owned(), true),
                };
                (f["id"].as_str().unwrap_or("").to_owned(), text, error)
            })
            .collect(),
    }
}

/// A model that calls `name` with `parts` whenever the last turn is the user's, and
/// answers `final_text` once it has the result.
fn model(
    p: P,
    name: &'static str,
    parts: &'static [&'static str],
    final_text: &'static str,
) -> FakeProvider {
    FakeProvider::start(move |req| {
        if answered(p, &req.json()) {
            text_reply(p, final_text)
        } else {
            call_reply(p, "call_1", name, parts)
        }
    })
}

const ECHO_PARTS: &[&str] = &["{\"te", "xt\": \"h", "éllo wö", "rld\"}"];

#[test]
fn each_protocol_runs_a_streamed_call_once_and_sends_its_result_back_in_its_own_shape() {
    for p in ALL {
        let fake = model(p, "files__echo", ECHO_PARTS, "The tool said héllo wörld.");
        let s = setup(&fake, p);
        let r = run(s.hearth().args([
            "chat",
            "--tools",
            "files",
            "--allow",
            "files/echo",
            "say hello through the tool",
        ]));
        assert!(r.ok(), "{p:?}: {r:?}");
        assert_eq!(r.stdout.trim_end(), "The tool said héllo wörld.", "{p:?}");
        // The tool ran once, with exactly the arguments the pieces add up to.
        assert_eq!(s.ran(), vec![r#"echo {"text": "héllo wörld"}"#], "{p:?}");

        let requests = fake.requests();
        assert_eq!(requests.len(), 2, "{p:?}");
        let first = requests[0].json();
        let second = requests[1].json();
        // The first request offers the server's tools with their schemas.
        let offered: Vec<Value> = match p {
            P::OpenAi => first["tools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["function"].clone())
                .collect(),
            P::Anthropic => first["tools"].as_array().unwrap().clone(),
            P::Gemini => first["tools"][0]["functionDeclarations"]
                .as_array()
                .unwrap()
                .clone(),
        };
        let echo = offered
            .iter()
            .find(|t| t["name"] == "files__echo")
            .unwrap_or_else(|| panic!("{p:?}: echo not offered: {offered:?}"));
        let schema = match p {
            P::OpenAi => &echo["parameters"],
            P::Anthropic => &echo["input_schema"],
            P::Gemini => &echo["parametersJsonSchema"],
        };
        assert_eq!(schema["properties"]["text"]["type"], "string", "{p:?}");
        assert_eq!(schema["required"], json!(["text"]), "{p:?}");
        assert!(offered.iter().any(|t| t["name"] == "files__add"), "{p:?}");

        // The follow-up carries the call as the model made it and the result, matched
        // by id, in the protocol's own shape.
        let t = turns(p, &second);
        match p {
            P::OpenAi => {
                let call = &t[t.len() - 2];
                assert_eq!(call["role"], "assistant");
                assert_eq!(call["tool_calls"][0]["id"], "call_1");
                assert_eq!(call["tool_calls"][0]["function"]["name"], "files__echo");
                assert_eq!(
                    call["tool_calls"][0]["function"]["arguments"],
                    ECHO_PARTS.concat()
                );
                assert_eq!(t[t.len() - 1]["role"], "tool");
            }
            P::Anthropic => {
                let call = &t[t.len() - 2];
                assert_eq!(call["role"], "assistant");
                let block = &call["content"][0];
                assert_eq!(block["type"], "tool_use");
                assert_eq!(block["id"], "call_1");
                assert_eq!(block["input"], json!({"text": "héllo wörld"}));
                assert_eq!(t[t.len() - 1]["role"], "user");
            }
            P::Gemini => {
                let call = &t[t.len() - 2];
                assert_eq!(call["role"], "model");
                let part = &call["parts"][0];
                assert_eq!(part["functionCall"]["name"], "files__echo");
                assert_eq!(part["functionCall"]["id"], "call_1");
                assert_eq!(part["functionCall"]["args"], json!({"text": "héllo wörld"}));
                // The thought signature goes back exactly as it came.
                assert_eq!(part["thoughtSignature"], "c2lnbmF0dXJlLW9mLXRoZS10aG91Z2h0");
                assert_eq!(t[t.len() - 1]["role"], "user");
                assert_eq!(
                    t[t.len() - 1]["parts"][0]["functionResponse"]["name"],
                    "files__echo"
                );
            }
        }
        assert_eq!(
            results(p, &second),
            vec![("call_1".to_owned(), "héllo wörld".to_owned(), false)],
            "{p:?}"
        );

        // The call and its result are kept with the reply.
        let id = s.only_conversation();
        let calls = s.calls(&id);
        assert_eq!(calls.len(), 1, "{p:?}: {calls:?}");
        assert_eq!(calls[0]["server"], "files");
        assert_eq!(calls[0]["name"], "echo");
        let arguments = calls[0]["arguments"].as_str().unwrap();
        if p == P::Gemini {
            // Gemini sends an object; it is kept as the JSON text of that object.
            let kept: Value = serde_json::from_str(arguments).unwrap();
            assert_eq!(kept, json!({"text": "héllo wörld"}));
        } else {
            assert_eq!(
                arguments,
                ECHO_PARTS.concat(),
                "{p:?}: kept as the model wrote them"
            );
        }
        assert_eq!(calls[0]["result"], "héllo wörld");
        assert_eq!(calls[0]["status"], "approved");
        let md = run_ok(s.hearth().args(["show", &id])).stdout;
        assert!(md.contains("**Tool call** `files/echo` (approved)"), "{md}");

        // The next turn sends the earlier call and result again, as history.
        let fake_len = fake.requests().len();
        run_ok(s.hearth().args([
            "chat",
            "--conversation",
            &id,
            "--allow",
            "files/echo",
            "and again",
        ]));
        let third = fake.requests()[fake_len].json();
        let history = turns(p, &third);
        assert!(
            history.len() >= 5,
            "{p:?}: question, call, result, answer, question: {history:?}"
        );
        s.assert_no_leftovers();
    }
}

/// Runs `cmd` with a terminal (a pty from `script`), typing `input` into it.
fn with_terminal(cmd: &Command, input: &str) -> Run {
    let quote = |s: &std::ffi::OsStr| {
        let s = s.to_string_lossy();
        format!("'{}'", s.replace('\'', r"'\''"))
    };
    let line = std::iter::once(quote(cmd.get_program()))
        .chain(cmd.get_args().map(quote))
        .collect::<Vec<_>>()
        .join(" ");
    let mut outer = Command::new("script");
    outer.args(["-q", "-e", "-c", &line, "/dev/null"]);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => outer.env(k, v),
            None => outer.env_remove(k),
        };
    }
    run_with_input(&mut outer, input.as_bytes())
}

#[test]
fn approval_grants_behave_as_named_and_an_unapproved_tool_never_runs() {
    let p = P::OpenAi;
    let fake = model(p, "files__echo", ECHO_PARTS, "Done.");
    let s = setup(&fake, p);

    // No terminal and no --allow: the call is denied, stderr says which, the model is
    // told, and the server never ran it.
    let r = run(s.hearth().args(["chat", "--tools", "files", "first"]));
    assert!(r.ok(), "{r:?}");
    assert!(
        r.stderr
            .contains("denied files/echo: there is no terminal to ask on"),
        "{r:?}"
    );
    assert!(s.ran().is_empty(), "{:?}", s.ran());
    let told = results(p, &fake.requests()[1].json());
    assert_eq!(told.len(), 1);
    assert!(told[0].1.contains("denied"), "{told:?}");
    let one = s.only_conversation();
    assert_eq!(s.calls(&one)[0]["status"], "denied");

    // "n" on the terminal: denied too.
    let r = with_terminal(
        s.hearth().args(["chat", "--conversation", &one, "second"]),
        "n\n",
    );
    assert!(r.ok(), "{r:?}");
    assert!(r.stdout.contains("Allow files/echo?"), "{r:?}");
    assert!(s.ran().is_empty());

    // "y": this call only. The next one is asked again (and, with no terminal, denied).
    let r = with_terminal(
        s.hearth().args(["chat", "--conversation", &one, "third"]),
        "y\n",
    );
    assert!(r.ok(), "{r:?}");
    assert_eq!(s.ran().len(), 1);
    let r = run(s.hearth().args(["chat", "--conversation", &one, "fourth"]));
    assert!(r.stderr.contains("denied files/echo"), "{r:?}");
    assert_eq!(s.ran().len(), 1);

    // "c": this tool in this conversation, from now on, without asking.
    let r = with_terminal(
        s.hearth().args(["chat", "--conversation", &one, "fifth"]),
        "c\n",
    );
    assert!(r.ok(), "{r:?}");
    assert_eq!(s.ran().len(), 2);
    let r = run(s.hearth().args(["chat", "--conversation", &one, "sixth"]));
    assert!(r.ok() && !r.stderr.contains("denied"), "{r:?}");
    assert_eq!(s.ran().len(), 3);
    // …but not in another conversation.
    let r = run(s.hearth().args(["chat", "--tools", "files", "elsewhere"]));
    assert!(r.stderr.contains("denied files/echo"), "{r:?}");
    assert_eq!(s.ran().len(), 3);
    let grants = run_ok(s.hearth().args(["tool", "grants", "--json"])).stdout;
    let grants: Value = serde_json::from_str(&grants).unwrap();
    assert_eq!(
        grants,
        json!([{"server":"files","tool":"echo","conversation_id":one,
        "created_at": grants[0]["created_at"]}])
    );

    // "a": always, in every conversation, until revoked.
    let r = with_terminal(
        s.hearth().args(["chat", "--tools", "files", "always?"]),
        "a\n",
    );
    assert!(r.ok(), "{r:?}");
    assert_eq!(s.ran().len(), 4);
    let r = run(s.hearth().args(["chat", "--tools", "files", "anywhere"]));
    assert!(r.ok() && !r.stderr.contains("denied"), "{r:?}");
    assert_eq!(s.ran().len(), 5);
    let listed = run_ok(s.hearth().args(["tool", "grants"])).stdout;
    assert!(listed.contains("files/echo  always"), "{listed}");
    run_ok(s.hearth().args(["tool", "revoke", "files/echo"]));
    let r = run(s
        .hearth()
        .args(["chat", "--tools", "files", "after revoking"]));
    assert!(r.stderr.contains("denied files/echo"), "{r:?}");
    assert_eq!(s.ran().len(), 5);

    // `--allow SERVER/*` allows every tool of the server, for that reply only.
    let r = run(s
        .hearth()
        .args(["chat", "--tools", "files", "--allow", "files/*", "star"]));
    assert!(r.ok() && !r.stderr.contains("denied"), "{r:?}");
    assert_eq!(s.ran().len(), 6);
    // Every call the model made is in the history, with what became of it.
    s.assert_no_leftovers();
}

/// Runs one chat whose model calls `name` with `arguments` (allowed), returning the
/// run, the stored call, and the result the model was told.
fn fault(
    name: &'static str,
    arguments: &'static str,
    extra: &[&str],
) -> (Setup, Run, Value, (String, String, bool), FakeProvider) {
    let p = P::Anthropic;
    let parts: &'static [&'static str] = Box::leak(vec![arguments].into_boxed_slice());
    let fake = model(p, name, parts, "I could not do that.");
    let s = setup(&fake, p);
    let r = run(s
        .hearth()
        .args(["chat", "--tools", "files", "--allow", "files/*"])
        .args(extra)
        .arg("do the thing"));
    let id = s.only_conversation();
    let calls = s.calls(&id);
    assert_eq!(calls.len(), 1, "{r:?} {calls:?}");
    let requests = fake.requests();
    let told = results(p, &requests[requests.len() - 1].json());
    assert_eq!(told.len(), 1, "{r:?}");
    (s, r, calls[0].clone(), told[0].clone(), fake)
}

#[test]
fn a_server_that_crashes_hangs_errs_or_floods_is_a_clear_failure_and_everything_is_kept() {
    // Crashes in the middle of the call.
    let (s, r, call, told, _f) = fault("files__crash", "{}", &[]);
    assert!(r.ok(), "the model hears of the failure and answers: {r:?}");
    assert_eq!(r.stdout.trim_end(), "I could not do that.");
    assert_eq!(call["status"], "failed");
    assert!(told.1.contains("stopped unexpectedly"), "{told:?}");
    assert!(told.2, "a failure is an error result");
    assert!(r.stderr.contains("[files/crash: failed"), "{r:?}");
    s.assert_no_leftovers();

    // Hangs past the deadline.
    let (s, r, call, told, _f) = fault(
        "files__slow",
        r#"{"seconds": 60}"#,
        &["--tool-timeout", "2"],
    );
    assert!(r.ok(), "{r:?}");
    assert_eq!(call["status"], "failed");
    assert!(told.1.contains("took longer than 2s"), "{told:?}");
    s.assert_no_leftovers();

    // Returns an error (arguments the tool's own schema refuses).
    let (s, r, call, told, _f) = fault("files__add", r#"{"a": "one", "b": 2}"#, &[]);
    assert!(r.ok(), "{r:?}");
    assert_eq!(call["status"], "failed");
    assert!(told.2 && !told.1.is_empty(), "{told:?}");
    s.assert_no_leftovers();

    // Returns 2 MB: cut at 1 MiB, with a note the model can read.
    let (s, r, call, told, _f) = fault("files__big", r#"{"size": 2000000}"#, &[]);
    assert!(r.ok(), "{r:?}");
    assert_eq!(call["status"], "approved");
    assert!(told.1.len() < 1024 * 1024 + 200, "{}", told.1.len());
    assert!(
        told.1.ends_with("over the 1048576-byte limit]"),
        "{}",
        &told.1[told.1.len() - 100..]
    );
    s.assert_no_leftovers();

    // Returns 10 MB: over the message bound, so the call fails at its deadline and
    // nothing that large is held.
    let (s, r, call, told, _f) = fault(
        "files__big",
        r#"{"size": 10000000}"#,
        &["--tool-timeout", "5"],
    );
    assert!(r.ok(), "{r:?}");
    assert_eq!(call["status"], "failed");
    assert!(told.2, "{told:?}");
    s.assert_no_leftovers();
}

#[test]
fn unknown_tools_and_invalid_arguments_are_told_to_the_model_and_nothing_runs() {
    let (s, r, call, told, _f) = fault("files__nope", "{}", &[]);
    assert!(r.ok(), "{r:?}");
    assert_eq!(call["status"], "failed");
    assert!(
        told.1.contains("There is no tool named \"files__nope\""),
        "{told:?}"
    );
    assert!(s.ran().is_empty());

    let (s, r, call, told, _f) = fault("files__echo", r#"{"text": "#, &[]);
    assert!(r.ok(), "{r:?}");
    assert_eq!(call["status"], "failed");
    assert_eq!(
        call["arguments"], r#"{"text": "#,
        "kept as the model wrote them"
    );
    assert!(told.1.contains("not valid JSON"), "{told:?}");
    assert!(s.ran().is_empty());
    s.assert_no_leftovers();
}

#[test]
fn a_server_that_will_not_start_is_a_clear_error_and_the_message_is_kept() {
    let fake = model(P::OpenAi, "broken__x", &["{}"], "never");
    let s = setup(&fake, P::OpenAi);
    run_ok(s.hearth().args([
        "tool",
        "add",
        "broken",
        "--",
        "/nonexistent/mcp-server-binary",
    ]));
    let r = run(s.hearth().args(["chat", "--tools", "broken", "hello"]));
    assert!(!r.ok(), "{r:?}");
    assert!(
        r.stderr
            .contains("MCP server \"broken\": could not run \"/nonexistent/mcp-server-binary\""),
        "{r:?}"
    );
    assert!(r.stderr.contains("Your message is saved"), "{r:?}");
    assert!(fake.requests().is_empty(), "nothing was sent");
    let id = s.only_conversation();
    let shown = s.shown(&id);
    assert_eq!(shown["messages"][0]["content"], "hello");
    // An unknown server name is refused before anything is saved.
    let r = run(s.hearth().args(["chat", "--tools", "nobody", "hi"]));
    assert!(!r.ok());
    assert!(
        r.stderr.contains("there is no tool server \"nobody\""),
        "{r:?}"
    );
}

#[test]
fn a_model_that_keeps_calling_is_stopped_at_the_step_limit_with_everything_kept() {
    let p = P::Gemini;
    let fake =
        FakeProvider::start(move |_| call_reply(p, "loop", "files__add", &[r#"{"a": 1, "b": 2}"#]));
    let s = setup(&fake, p);
    let r = run(s
        .hearth()
        .args(["chat", "--tools", "files", "--allow", "files/add", "loop"]));
    assert!(!r.ok(), "{r:?}");
    assert!(
        r.stderr.contains("still calling tools after 20 rounds"),
        "{r:?}"
    );
    assert_eq!(fake.requests().len(), 21);
    assert_eq!(s.ran().len(), 20);
    let id = s.only_conversation();
    let shown = s.shown(&id);
    let reply = &shown["messages"][1];
    assert_eq!(reply["status"], "error");
    assert!(reply["error"].as_str().unwrap().contains("tool_step_limit"));
    let calls = reply["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 20);
    assert!(calls
        .iter()
        .all(|c| c["status"] == "approved" && c["result"] == "3"));
    s.assert_no_leftovers();
}

fn assert_no_file_has(dir: &Path, needle: &str) {
    let hits = files_containing(dir, needle.as_bytes());
    assert!(hits.is_empty(), "{needle} found in {hits:?}");
}

#[test]
fn a_servers_secrets_never_reach_the_disk_and_it_sees_nothing_of_hearths_environment() {
    for keychain in [false, true] {
        let t = TestDir::new();
        let cmd = |t: &TestDir| -> Command {
            if keychain {
                require_secret_service();
                t.hearth()
            } else {
                hearth(t)
            }
        };
        if keychain {
            run_ok(cmd(&t).arg("init"));
        } else {
            run_ok(cmd(&t).args(["init", "--passphrase", "--no-keychain"]));
        }
        let fake = FakeProvider::start(|req| {
            let body = req.json();
            if answered(P::OpenAi, &body) {
                text_reply(P::OpenAi, "ok")
            } else {
                // Asks the server for the variable the question names.
                let question = body["messages"]
                    .as_array()
                    .and_then(|m| m.last())
                    .and_then(|m| m["content"].as_str())
                    .unwrap_or("")
                    .to_owned();
                let name = match question.as_str() {
                    "token?" => "API_TOKEN",
                    "passphrase?" => "HEARTH_PASSPHRASE",
                    _ => "OPENAI_API_KEY",
                };
                let args: &'static str =
                    Box::leak(format!("{{\"name\": \"{name}\"}}").into_boxed_str());
                let parts: &'static [&'static str] = Box::leak(vec![args].into_boxed_slice());
                call_reply(P::OpenAi, "call_env", "sec__env", parts)
            }
        });
        use_mock_provider(|| cmd(&t), "openai-compatible", &fake.base_url("/v1"));
        let token = canary("tool-token");
        run_ok(
            cmd(&t)
                .args(["tool", "add", "sec", "--env", "API_TOKEN"])
                .env("API_TOKEN", &token)
                .arg("--")
                .arg(python())
                .arg(server_script())
                .arg("stdio"),
        );
        // Only the name is listed, never the value.
        let listed = run_ok(cmd(&t).args(["tool", "list", "--json"])).stdout;
        assert!(
            listed.contains("API_TOKEN") && !listed.contains(&token),
            "{listed}"
        );
        let mut told = Vec::new();
        for question in ["token?", "passphrase?", "provider key?"] {
            let before = fake.requests().len();
            let mut c = cmd(&t);
            c.args(["chat", "--tools", "sec", "--allow", "sec/env", question])
                .env("OPENAI_API_KEY", "sk-in-hearths-environment");
            let r = run(&mut c);
            assert!(r.ok(), "{r:?}");
            let requests = fake.requests();
            told.push(
                results(P::OpenAi, &requests[requests.len() - 1].json())[0]
                    .1
                    .clone(),
            );
            assert!(requests.len() > before);
        }
        // The server got its own variable, and nothing of Hearth's.
        assert_eq!(told[0], token, "keychain {keychain}");
        assert_eq!(told[1], "<unset>");
        assert_eq!(told[2], "<unset>");
        assert_no_file_has(&t.data, &token);
        if keychain {
            let accounts = secret_tool_accounts();
            assert!(
                accounts
                    .iter()
                    .any(|a| a.starts_with("tool-secret:") && a.ends_with(":sec:env:API_TOKEN")),
                "{accounts:?}"
            );
            run_ok(cmd(&t).args(["tool", "remove", "sec"]));
            let accounts = secret_tool_accounts();
            assert!(
                !accounts.iter().any(|a| a.ends_with(":sec:env:API_TOKEN")),
                "removing the server removes its secret: {accounts:?}"
            );
            run_ok(cmd(&t).args(["erase", "--yes"]));
        }
    }
}

/// Drains a reply, answering every approval with `answer`; returns the text.
async fn drain_answering(
    mut reply: hearth_engine::Reply,
    answer: hearth_engine::ToolDecision,
) -> String {
    let mut text = String::new();
    while let Some(event) = reply.next().await {
        match event.unwrap() {
            hearth_engine::ReplyEvent::Text(t) => text.push_str(&t),
            hearth_engine::ReplyEvent::ToolApproval(_) => reply.decide(answer).unwrap(),
            _ => {}
        }
    }
    text
}

/// The roles (and a tool result's content) of a recorded OpenAI request.
fn roles(body: &Value) -> Vec<String> {
    turns(P::OpenAi, body)
        .iter()
        .map(|t| match t["role"].as_str().unwrap() {
            "tool" => format!("tool: {}", t["content"].as_str().unwrap()),
            "user" => format!("user: {}", t["content"].as_str().unwrap()),
            other => other.to_owned(),
        })
        .collect()
}

#[test]
fn regenerate_and_edit_work_across_tool_calls() {
    use hearth_engine::{AppPaths, Engine, KeyProtection, Passphrase, ProviderUpdate};
    use hearth_engine::{SendRequest, ToolDecision, ToolTransport};
    let fake = model(P::OpenAi, "files__echo", ECHO_PARTS, "Done.");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.log");
    let engine = Engine::create_with_kdf(
        &AppPaths::new(dir.path().join("data")),
        std::sync::Arc::new(hearth_keychain::MemoryStore::unavailable()),
        KeyProtection::Passphrase(Passphrase::new(PASS)),
        hearth_engine::KdfParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        },
    )
    .unwrap();
    engine
        .set_provider(ProviderUpdate {
            id: "mock".into(),
            kind: Some("openai-compatible".into()),
            base_url: Some(fake.base_url("/v1")),
            default_model: Some("test-model".into()),
            make_default: true,
        })
        .unwrap();
    engine
        .set_api_key("mock", "sk-test-0123456789abcdef")
        .unwrap();
    engine
        .add_tool_server(
            "files",
            ToolTransport::Stdio {
                command: python().display().to_string(),
                args: vec![server_script().display().to_string(), "stdio".into()],
                env: vec![("MCP_CALL_LOG".into(), log.display().to_string())],
            },
        )
        .unwrap();
    let ran = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let reply = engine
            .send(SendRequest {
                text: "q".into(),
                tools: Some(vec!["files".into()]),
                allow: vec!["files/echo".parse().unwrap()],
                ..Default::default()
            })
            .await
            .unwrap();
        let conversation = reply.conversation_id().to_owned();
        let question = reply.user_message_id().to_owned();
        let first = reply.message_id().to_owned();
        assert_eq!(drain_answering(reply, ToolDecision::Deny).await, "Done.");
        assert_eq!(ran(), 1);

        // Regenerating asks again from the question: the old reply's call is not sent,
        // the loop runs again (asking this time: --allow held for one reply only).
        let reply = engine.regenerate(&first).await.unwrap();
        let second = reply.message_id().to_owned();
        assert_eq!(drain_answering(reply, ToolDecision::Once).await, "Done.");
        assert_eq!(ran(), 2);
        let requests = fake.requests();
        assert_eq!(roles(&requests[2].json()), ["user: q"]);
        assert_eq!(
            roles(&requests[3].json()),
            ["user: q", "assistant", "tool: héllo wörld"]
        );
        assert_eq!(engine.tool_calls_in(&conversation).unwrap().len(), 2);
        let visible = engine.visible_messages(&conversation).unwrap();
        assert_eq!(visible.last().unwrap().id, second);

        // Editing the question starts a branch of its own, which sends only itself.
        let reply = engine.edit(&question, "q edited").await.unwrap();
        assert_eq!(drain_answering(reply, ToolDecision::Deny).await, "Done.");
        assert_eq!(ran(), 2, "denied");
        let requests = fake.requests();
        assert_eq!(roles(&requests[4].json()), ["user: q edited"]);

        // The next message in the edited branch carries that branch's call, denied,
        // and nothing of the others.
        let reply = engine
            .send(SendRequest {
                conversation_id: Some(conversation.clone()),
                text: "next".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        drain_answering(reply, ToolDecision::Deny).await;
        let requests = fake.requests();
        let sent = roles(&requests[6].json());
        assert_eq!(sent[0], "user: q edited");
        assert_eq!(sent[1], "assistant");
        assert_eq!(sent[2], format!("tool: {}", hearth_engine::DENIED_RESULT));
        assert_eq!(sent[3], "assistant");
        assert_eq!(sent[4], "user: next");
        assert_eq!(engine.tool_calls_in(&conversation).unwrap().len(), 4);
        engine.stop_tool_servers().await;
    });
}
