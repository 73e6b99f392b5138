#!/usr/bin/env python3
"""Writes the import fixtures in this folder (see README.md). Run it from anywhere;
the output is deterministic, so re-running it changes nothing unless this file changed."""

import json
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT_UUID = "00000000-0000-4000-8000-000000000000"


def node(nid, parent, children, message):
    return nid, {"id": nid, "message": message, "parent": parent, "children": children}


def msg(nid, role, content, t, recipient="all", metadata=None, name=None, **extra):
    m = {
        "id": nid,
        "author": {"role": role, "name": name, "metadata": {}},
        "create_time": t,
        "update_time": None,
        "content": content,
        "status": "finished_successfully",
        "end_turn": True,
        "weight": 1.0,
        "metadata": metadata or {},
        "recipient": recipient,
    }
    m.update(extra)
    return m


def text(*parts):
    return {"content_type": "text", "parts": list(parts)}


def conversation(cid, title, create, update, current, nodes, **extra):
    c = {
        "title": title,
        "create_time": create,
        "update_time": update,
        "mapping": dict(nodes),
        "moderation_results": [],
        "current_node": current,
        "plugin_ids": None,
        "conversation_id": cid,
        "conversation_template_id": None,
        "gizmo_id": None,
        "is_archived": False,
        "safe_urls": [],
        "default_model_slug": "gpt-4o",
        "id": cid,
    }
    c.update(extra)
    return c


GPT4O = {"model_slug": "gpt-4o", "request_id": "req-1", "timestamp_": "absolute"}

# Capitals: an edited first question (two user branches) and a regenerated reply; the
# visible branch (current_node) is the later regeneration. A hidden system message sits
# under the root.
capitals = conversation(
    "6a1f0c1e-0000-4000-8000-00000000000a",
    "Capitals",
    1700000000.123456,
    1700000300.5,
    "a3",
    [
        node("client-created-root", None, ["sysA"], None),
        node("sysA", "client-created-root", ["u1", "u1b"],
             msg("sysA", "system", text(""), None,
                 metadata={"is_visually_hidden_from_conversation": True})),
        node("u1", "sysA", ["a1"], msg("u1", "user", text("What is the capital of France?"), 1700000001.5)),
        node("a1", "u1", [], msg("a1", "assistant", text("The capital of France is Paris."), 1700000002.25, metadata=GPT4O)),
        node("u1b", "sysA", ["a2", "a3"], msg("u1b", "user", text("What is the capital of Italy?"), 1700000100.75)),
        node("a2", "u1b", [], msg("a2", "assistant", text("Rome."), 1700000101.0, metadata=GPT4O)),
        node("a3", "u1b", [], msg("a3", "assistant", text("The capital of Italy is Rome."), 1700000200.0,
                                  metadata={"model_slug": "gpt-4o-mini"})),
    ],
)

# Chart and code: a picture with text and an attachment, reasoning (thoughts and its
# recap), the assistant's code sent to the python tool, the tool's output with a chart,
# a citation marker, and a reply continued with "Continue generating".
chart = conversation(
    "6a1f0c1e-0000-4000-8000-00000000000b",
    "Chart and code",
    1700001000.0,
    1700001100.0,
    "b7",
    [
        node("b0", None, ["b1"], None),
        node("b1", "b0", ["b2"], msg("b1", "user", {
            "content_type": "multimodal_text",
            "parts": [
                {"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-AbC123",
                 "size_bytes": 1000, "width": 512, "height": 512, "fovea": None, "metadata": None},
                "Plot the numbers in this picture and add them up.",
            ]}, 1700001001.0,
            metadata={"attachments": [{"id": "file-AbC123", "name": "numbers.png", "size": 1000,
                                       "mime_type": "image/png", "width": 512, "height": 512}]})),
        node("b2", "b1", ["b3"], msg("b2", "assistant", {
            "content_type": "thoughts",
            "thoughts": [{"summary": "Reading the picture", "content": "The image lists 12 and 30.",
                          "chunks": [], "finished": True}],
            "source_analysis_msg_id": "x"}, 1700001002.0, metadata=GPT4O)),
        node("b3", "b2", ["b4"], msg("b3", "assistant", {"content_type": "reasoning_recap",
                                                         "content": "Thought for 4 seconds"}, 1700001003.0)),
        node("b4", "b3", ["b5"], msg("b4", "assistant", {"content_type": "code", "language": "python",
                                                         "response_format_name": None,
                                                         "text": "print(12 + 30)"}, 1700001004.0,
                                     recipient="python", metadata=GPT4O)),
        node("b5", "b4", ["b6"], msg("b5", "tool", {"content_type": "execution_output", "text": "42"},
                                     1700001005.0, name="python",
                                     metadata={"aggregate_result": {
                                         "status": "success", "code": "print(12 + 30)",
                                         "messages": [{"message_type": "image",
                                                       "image_url": "file-service://file-Chart1",
                                                       "width": 800, "height": 600}]}})),
        node("b6", "b5", ["b7"], msg("b6", "assistant", text(
            "The numbers add up to 42\ue200cite\ue202turn0search0\ue201, and the chart shows both bars. The larger one is "),
            1700001006.0, metadata=GPT4O, end_turn=False)),
        node("b7", "b6", [], msg("b7", "assistant", text("30. Anything else?"), 1700001007.0, metadata=GPT4O)),
    ],
)

# No title and no times: the title comes from the first user message and the times from
# the messages; custom instructions and memory context are hidden.
untitled = conversation(
    "6a1f0c1e-0000-4000-8000-00000000000c",
    None,
    None,
    None,
    "c4",
    [
        node("c0", None, ["c1"], None),
        node("c1", "c0", ["c2"], msg("c1", "system", {"content_type": "user_editable_context",
                                                     "user_profile": "I teach.", "user_instructions": "Be brief."},
                                     None, metadata={"is_user_system_message": True,
                                                     "is_visually_hidden_from_conversation": True})),
        node("c2", "c1", ["c3"], msg("c2", "user", text("How do I boil an egg?\nThanks!"), 1700002000.0)),
        node("c3", "c2", ["c4"], msg("c3", "assistant", {"content_type": "model_editable_context",
                                                        "model_set_context": "1. Teaches."}, None)),
        node("c4", "c3", [], msg("c4", "assistant", text("Put it in boiling water for 9 minutes."), None, metadata=GPT4O)),
    ],
)

# Voice and pictures: audio transcriptions keep their text, a DALL·E request to the tool is
# hidden, and the tool's image is kept as a placeholder with its prompt.
voice = conversation(
    "6a1f0c1e-0000-4000-8000-00000000000d",
    "Voice and pictures",
    1700003000,
    1700003100,
    "d6",
    [
        node("d0", None, ["d1"], None),
        node("d1", "d0", ["d2"], msg("d1", "user", {"content_type": "multimodal_text", "parts": [
            {"content_type": "audio_transcription", "text": "Tell me a joke.", "direction": "in"},
            {"content_type": "audio_asset_pointer", "asset_pointer": "sediment://file_1", "size_bytes": 9,
             "format": "wav", "metadata": {}}]}, 1700003001)),
        node("d2", "d1", ["d3"], msg("d2", "assistant", {"content_type": "multimodal_text", "parts": [
            {"content_type": "audio_transcription", "text": "Why did the cat sit on the computer?", "direction": "out"},
            {"content_type": "audio_asset_pointer", "asset_pointer": "sediment://file_2", "size_bytes": 9,
             "format": "wav", "metadata": {}}]}, 1700003002, metadata=GPT4O)),
        node("d3", "d2", ["d4"], msg("d3", "user", text("Draw that cat."), 1700003003)),
        node("d4", "d3", ["d5"], msg("d4", "assistant", text('{"prompt": "A cat sitting on a laptop"}'), 1700003004,
                                     recipient="dalle.text2im", metadata=GPT4O)),
        node("d5", "d4", ["d6"], msg("d5", "tool", {"content_type": "multimodal_text", "parts": [
            {"content_type": "image_asset_pointer", "asset_pointer": "sediment://file_3", "width": 1024,
             "height": 1024, "metadata": {"dalle": {"gen_id": "g", "prompt": "A cat sitting on a laptop",
                                                    "seed": 1, "serialization_title": "DALL-E generation metadata"}}}]},
            1700003005, name="dalle.text2im")),
        node("d6", "d5", [], msg("d6", "assistant", text("To keep an eye on the mouse!"), 1700003006, metadata=GPT4O)),
    ],
)

CHATGPT = [capitals, chart, untitled, voice]

# Work behind "show work", in the shapes of current exports: a Canvas document made with
# `canmore.create_textdoc` (its JSON in a `code` message) and changed with
# `canmore.update_textdoc`, the tools' answers (hidden), Code Interpreter code sent to
# `python` and its `execution_output`, on the `commentary` channel, and replies with no
# `model_slug` (the conversation's `default_model_slug` applies).
CANVAS_DOC = {"name": "Packing list", "type": "document", "content": "# Packing\n\n- passport\n- charger"}
CANVAS_UPDATE = {"updates": [{"pattern": "- charger", "multiple": False, "replacement": "- charger\n- sun hat"}]}
tools = conversation(
    "6a1f0c1e-0000-4000-8000-00000000000f",
    "Canvas and code",
    1700004000.0,
    1700004100.0,
    "t12",
    [
        node("t0", None, ["t1"], None),
        node("t1", "t0", ["t2"], msg("t1", "user", text("Make me a packing list."), 1700004001.0)),
        node("t2", "t1", ["t3"], msg("t2", "assistant", {"content_type": "code", "language": "json",
                                                        "response_format_name": None,
                                                        "text": json.dumps(CANVAS_DOC)},
                                     1700004002.0, recipient="canmore.create_textdoc", channel="commentary",
                                     end_turn=False)),
        node("t3", "t2", ["t4"], msg("t3", "tool", text("Successfully created text document 'Packing list' which will be referenced in all future messages with the unique identifier textdoc_id: '6767'"),
                                     1700004003.0, name="canmore.create_textdoc",
                                     metadata={"canvas": {"textdoc_id": "6767", "textdoc_type": "document",
                                                          "version": 1, "title": "Packing list"}})),
        node("t4", "t3", ["t5"], msg("t4", "assistant", text("The list is in the canvas."), 1700004004.0,
                                     channel="final")),
        node("t5", "t4", ["t6"], msg("t5", "user", text("Add a sun hat, then count the items in Python."), 1700004005.0)),
        node("t6", "t5", ["t7"], msg("t6", "assistant", {"content_type": "code", "language": "json",
                                                        "text": json.dumps(CANVAS_UPDATE)},
                                     1700004006.0, recipient="canmore.update_textdoc", channel="commentary",
                                     metadata={"canvas": {"textdoc_id": "6767"}}, end_turn=False)),
        node("t7", "t6", ["t8"], msg("t7", "tool", text("Successfully updated text document with textdoc_id '6767'"),
                                     1700004007.0, name="canmore.update_textdoc")),
        node("t8", "t7", ["t9"], msg("t8", "assistant", {"content_type": "code", "language": "unknown",
                                                        "text": "items = ['passport', 'charger', 'sun hat']\nlen(items)"},
                                     1700004008.0, recipient="python", channel="commentary", end_turn=False)),
        node("t9", "t8", ["t10"], msg("t9", "tool", {"content_type": "execution_output", "text": "3"},
                                      1700004009.0, name="python", channel="commentary",
                                      metadata={"aggregate_result": {"status": "success", "messages": [],
                                                                     "jupyter_messages": []}})),
        node("t10", "t9", ["t11"], msg("t10", "assistant", {"content_type": "reasoning_recap",
                                                           "content": "Thought for 2s"}, 1700004010.0)),
        node("t11", "t10", ["t12"], msg("t11", "assistant", text("Added the hat. There are "), 1700004011.0,
                                        channel="final", end_turn=False)),
        node("t12", "t11", [], msg("t12", "assistant", text("3 items."), 1700004012.0, channel="final")),
    ],
    default_model_slug="gpt-5",
)

# A conversation without a `mapping`, as current exports hold.
no_mapping = {
    "title": "Only a stub",
    "create_time": 1700005000.0,
    "update_time": 1700005000.0,
    "conversation_id": "6a1f0c1e-0000-4000-8000-0000000000aa",
    "id": "6a1f0c1e-0000-4000-8000-0000000000aa",
    "current_node": None,
    "default_model_slug": "gpt-5",
}

bad_parent = json.loads(json.dumps(voice))
bad_parent.update({"conversation_id": "6a1f0c1e-0000-4000-8000-0000000000ee", "id": "6a1f0c1e-0000-4000-8000-0000000000ee",
                   "title": "Broken tree"})
bad_parent["mapping"]["d3"]["parent"] = "d9-missing"

bad_shape = json.loads(json.dumps(untitled))
bad_shape.update({"conversation_id": "6a1f0c1e-0000-4000-8000-0000000000ef", "id": "6a1f0c1e-0000-4000-8000-0000000000ef",
                  "title": "Wrong shape"})
bad_shape["mapping"]["c2"]["children"] = "c3"


def claude_msg(uuid, parent, sender, text_field, content, t, attachments=(), files=()):
    m = {
        "uuid": uuid,
        "text": text_field,
        "content": content,
        "sender": sender,
        "created_at": t,
        "updated_at": t,
        "attachments": list(attachments),
        "files": list(files),
    }
    if parent is not None:
        m["parent_message_uuid"] = parent
    return m


def block(text_):
    return {"start_timestamp": "2024-08-08T19:12:06.000000Z", "stop_timestamp": "2024-08-08T19:12:07.000000Z",
            "type": "text", "text": text_, "citations": []}


PLACEHOLDER = "```\nThis block is not supported on your current device yet.\n```"

claude_branches = {
    "uuid": "28d595a3-5db0-492d-a49a-af74f13de505",
    "name": "Rust main",
    "summary": "",
    "created_at": "2024-08-08T19:12:06.120414Z",
    "updated_at": "2024-08-08T19:20:00+00:00",
    "account": {"uuid": "acc-1"},
    "chat_messages": [
        claude_msg("m1", ROOT_UUID, "human", "Explain this file", [block("Explain this file")],
                   "2024-08-08T19:12:06.120414Z",
                   attachments=[{"file_name": "lib.rs", "file_size": 13, "file_type": "text/x-rust",
                                 "extracted_content": "fn main() {}\n"}],
                   files=[{"file_name": "diagram.png", "file_uuid": "f-1"}]),
        claude_msg("m2", "m1", "assistant", PLACEHOLDER + "\n\nIt defines an empty `main` function.",
                   [{"type": "thinking", "thinking": "The user wants the file explained.",
                     "summaries": [], "cut_off": False},
                    block("It defines an empty "), block("`main` function.")],
                   "2024-08-08T19:12:10Z"),
        claude_msg("m3", "m1", "assistant", "An empty program.", [block("An empty program.")],
                   "2024-08-08T19:13:00Z"),
        claude_msg("m4", "m2", "human", "Can it print?", [block("Can it print?")], "2024-08-08T19:15:00Z"),
        claude_msg("m5", "m4", "assistant", "Let me check.\n\n" + PLACEHOLDER + "\n\n" + PLACEHOLDER + "\n\nUse `println!`.",
                   [block("Let me check."),
                    {"type": "tool_use", "id": "toolu_1", "name": "web_search", "input": {"query": "rust println"}},
                    {"type": "tool_result", "tool_use_id": "toolu_1", "name": "web_search", "is_error": False,
                     "content": [{"type": "text", "text": "println! prints a line"}]},
                    block("Use `println!`.")],
                   "2024-08-08T19:16:00Z"),
    ],
}

claude_linear = {
    "uuid": "5b3c0d1e-1111-4222-8333-444455556666",
    "name": "",
    "created_at": "2024-09-01T10:00:00Z",
    "updated_at": "2024-09-01T10:05:00Z",
    "account": {"uuid": "acc-1"},
    "chat_messages": [
        claude_msg("n1", None, "human", "Summarise my notes", [block("Summarise my notes")], "2024-09-01T10:00:00Z",
                   attachments=[{"file_name": "", "file_size": 18, "file_type": "txt",
                                 "extracted_content": "Buy milk\nCall mom"}]),
        {"uuid": "n2", "text": "Buy milk, then call your mother.", "sender": "assistant",
         "created_at": "2024-09-01T10:00:05Z", "updated_at": "2024-09-01T10:00:05Z", "attachments": [], "files": []},
    ],
}

CLAUDE = [claude_branches, claude_linear]

claude_bad = json.loads(json.dumps(claude_linear))
claude_bad.update({"uuid": "bad00000-0000-4000-8000-000000000000", "name": "Lost parent"})
claude_bad["chat_messages"][1]["parent_message_uuid"] = "not-here"


def dump(path, value):
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, ensure_ascii=False)
        f.write("\n")


def zipped(path, files):
    full = os.path.join(HERE, path)
    with zipfile.ZipFile(full, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def text_of(path):
    with open(os.path.join(HERE, path), "rb") as f:
        return f.read()


dump("chatgpt/conversations.json", CHATGPT)
dump("chatgpt-split/conversations-000.json", CHATGPT[:2])
dump("chatgpt-split/conversations-001.json", CHATGPT[2:])
dump("chatgpt-bad-parent.json", [capitals, bad_parent, untitled])
dump("chatgpt-bad-shape.json", [capitals, bad_shape, voice])
dump("chatgpt-tools.json", [no_mapping, tools, bad_shape, untitled])
dump("claude/conversations.json", CLAUDE)
dump("claude-bad-parent.json", [claude_branches, claude_bad, claude_linear])
zipped("chatgpt-export.zip", [
    ("conversations.json", text_of("chatgpt/conversations.json")),
    ("chat.html", b"<html><body>export</body></html>\n"),
    ("user-abc123/file-AbC123-numbers.png", b"\x89PNG not really\n"),
])
zipped("chatgpt-split-export.zip", [
    ("conversations-001.json", text_of("chatgpt-split/conversations-001.json")),
    ("conversations-000.json", text_of("chatgpt-split/conversations-000.json")),
])
zipped("claude-export.zip", [
    ("conversations.json", text_of("claude/conversations.json")),
    ("users.json", b'[{"uuid": "acc-1"}]\n'),
])
