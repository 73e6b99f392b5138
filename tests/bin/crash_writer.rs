//! A writer for the crash-safety test: opens a vault with the data key read from stdin,
//! then appends and streams messages as fast as it can, printing each message id once
//! the call that wrote it has returned. The test kills it with SIGKILL at random moments.

use std::io::{BufRead, Write};

use hearth_vault::{DataKey, MessageStatus, NewConversation, NewMessage, Role, Vault, VaultPaths};

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: hearth-crash-writer DATA_DIR < key");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .expect("read the key");
    let key = DataKey::from_hex(&line).expect("a hex data key");
    let mut vault = Vault::open_with_key(&VaultPaths::new(dir), &key).expect("open the vault");
    let out = std::io::stdout();
    let conversation = vault
        .create_conversation(NewConversation {
            title: "crash test".into(),
            ..Default::default()
        })
        .expect("create a conversation");
    let mut parent: Option<String> = None;
    for i in 0u64.. {
        let role = if i % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        let mut new = NewMessage::complete(
            &conversation.id,
            parent.as_deref(),
            role,
            format!("message {i} "),
        );
        if role == Role::Assistant {
            new.status = MessageStatus::Streaming;
        }
        let message = vault.append_message(new).expect("append");
        if role == Role::Assistant {
            // Stream a little text into the reply, as the chat pipeline does.
            let mut text = format!("message {i} ");
            for chunk in 0..5 {
                text.push_str(&format!("chunk{chunk} "));
                vault
                    .update_streaming(&message.id, &text, None)
                    .expect("update");
            }
            vault
                .finish_message(&message.id, MessageStatus::Complete, None, Some(1), Some(5))
                .expect("finish");
        }
        {
            let mut lock = out.lock();
            writeln!(lock, "{}", message.id).expect("print");
            lock.flush().expect("flush");
        }
        parent = Some(message.id);
    }
}
