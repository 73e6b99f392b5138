//! A running MCP server: the handshake, listing and calling tools, each under a deadline,
//! and stopping it.

use std::sync::Mutex;
use std::time::Duration;

use rmcp::model::CallToolRequestParams;
use rmcp::service::{RunningService, ServiceError};
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::{RoleClient, ServiceExt};

use crate::config::{validate_url, ServerConfig, Transport};
use crate::output::{ToolOutput, MAX_MESSAGE_BYTES};
use crate::stdio::{self, ChildProcess, StderrTail};
use crate::{Result, ToolError};

/// Deadlines for a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From spawning (or connecting) to the end of the initialize handshake.
    pub start: Duration,
    /// One request: listing tools, or one tool call.
    pub call: Duration,
}

impl Default for Timeouts {
    /// 20 s to start, 60 s per call.
    fn default() -> Self {
        Timeouts {
            start: Duration::from_secs(20),
            call: Duration::from_secs(60),
        }
    }
}

/// One tool a server offers.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolInfo {
    /// The name to call it by.
    pub name: String,
    /// What it does, in the server's words.
    pub description: String,
    /// The JSON Schema of its arguments.
    pub input_schema: serde_json::Value,
}

/// A started MCP server. Dropping it kills a stdio server's process group.
pub struct Server {
    name: String,
    service: tokio::sync::Mutex<Option<RunningService<RoleClient, ()>>>,
    child: Mutex<Option<ChildProcess>>,
    pid: Option<u32>,
    stderr: StderrTail,
    timeouts: Timeouts,
}

impl Server {
    /// Validates `config`, starts the server and runs the initialize handshake.
    ///
    /// A stdio server gets only `PATH`, `HOME` and `LANG` from Hearth's environment,
    /// plus the variables in its configuration.
    pub async fn start(config: &ServerConfig, timeouts: Timeouts) -> Result<Server> {
        config.validate()?;
        let name = config.name.clone();
        let timed_out = |what: &str, after| ToolError::TimedOut {
            server: name.clone(),
            what: what.to_owned(),
            after,
        };
        match &config.transport {
            Transport::Stdio { command, args, env } => {
                let (child, stdout, stdin, stderr) =
                    stdio::spawn(&name, command, args, env, &stdio::inherited_env())?;
                let pid = child.pid();
                let transport = AsyncRwTransport::new_client(stdout, stdin)
                    .with_max_line_length(MAX_MESSAGE_BYTES);
                let handshake = tokio::time::timeout(timeouts.start, ().serve(transport));
                let service = match handshake.await {
                    Ok(Ok(service)) => service,
                    Ok(Err(e)) => {
                        child.kill_and_reap().await;
                        return Err(ToolError::Handshake {
                            server: name.clone(),
                            reason: e.to_string(),
                            stderr: stderr.text(),
                        });
                    }
                    Err(_) => {
                        child.kill_and_reap().await;
                        return Err(timed_out("starting", timeouts.start));
                    }
                };
                Ok(Server {
                    name,
                    service: tokio::sync::Mutex::new(Some(service)),
                    child: Mutex::new(Some(child)),
                    pid,
                    stderr,
                    timeouts,
                })
            }
            Transport::Http { url, headers } => {
                let url = validate_url(url).map_err(|reason| ToolError::InvalidConfig {
                    server: name.clone(),
                    reason,
                })?;
                let transport = crate::http::transport(&name, &url, headers)?;
                let service = match tokio::time::timeout(timeouts.start, ().serve(transport)).await
                {
                    Ok(Ok(service)) => service,
                    Ok(Err(e)) => {
                        return Err(ToolError::Handshake {
                            server: name.clone(),
                            reason: e.to_string(),
                            stderr: String::new(),
                        })
                    }
                    Err(_) => return Err(timed_out("starting", timeouts.start)),
                };
                Ok(Server {
                    name,
                    service: tokio::sync::Mutex::new(Some(service)),
                    child: Mutex::new(None),
                    pid: None,
                    stderr: StderrTail::default(),
                    timeouts,
                })
            }
        }
    }

    /// The server's configured name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id of a stdio server's child (it leads its own process group).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Every tool the server offers (all pages).
    pub async fn list_tools(&self) -> Result<Vec<ToolInfo>> {
        let peer = self.peer().await?;
        let tools = match tokio::time::timeout(self.timeouts.call, peer.list_all_tools()).await {
            Ok(result) => result.map_err(|e| self.service_error(e))?,
            Err(_) => return Err(self.timed_out("listing tools").await),
        };
        Ok(tools
            .into_iter()
            .map(|tool| ToolInfo {
                name: tool.name.into_owned(),
                description: tool.description.map(|d| d.into_owned()).unwrap_or_default(),
                input_schema: serde_json::Value::Object((*tool.input_schema).clone()),
            })
            .collect())
    }

    /// Calls the tool `name` with `arguments`. Past the call deadline the server is
    /// stopped and the error is [`ToolError::TimedOut`].
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
    ) -> Result<ToolOutput> {
        let peer = self.peer().await?;
        let mut params = CallToolRequestParams::new(name.to_owned());
        params.arguments = Some(arguments);
        match tokio::time::timeout(self.timeouts.call, peer.call_tool(params)).await {
            Ok(result) => {
                let result = result.map_err(|e| self.service_error(e))?;
                Ok(ToolOutput::from_result(result))
            }
            Err(_) => Err(self.timed_out(&format!("calling {name}")).await),
        }
    }

    /// Ends the session and stops the server; a stdio server's process group is killed
    /// and the child reaped.
    pub async fn stop(self) {
        self.shut_down().await;
    }

    async fn shut_down(&self) {
        let service = self.service.lock().await.take();
        let child = self.child.lock().ok().and_then(|mut c| c.take());
        if let Some(child) = child {
            // Kill first: a polite close could wait on a server that ignores it.
            child.kill_and_reap().await;
        }
        if let Some(service) = service {
            let _ = tokio::time::timeout(Duration::from_secs(2), service.cancel()).await;
        }
    }

    async fn peer(&self) -> Result<rmcp::Peer<RoleClient>> {
        match self.service.lock().await.as_ref() {
            Some(service) if !service.is_closed() => Ok(service.peer().clone()),
            _ => Err(ToolError::Stopped {
                server: self.name.clone(),
            }),
        }
    }

    async fn timed_out(&self, what: &str) -> ToolError {
        self.shut_down().await;
        ToolError::TimedOut {
            server: self.name.clone(),
            what: what.to_owned(),
            after: self.timeouts.call,
        }
    }

    fn service_error(&self, error: ServiceError) -> ToolError {
        let server = self.name.clone();
        match error {
            ServiceError::McpError(e) => ToolError::Refused {
                server,
                message: e.message.into_owned(),
            },
            ServiceError::TransportClosed | ServiceError::Cancelled { .. } => {
                // Reap a crashed child now rather than at drop.
                if let Ok(mut child) = self.child.lock() {
                    if let Some(child) = child.take() {
                        tokio::spawn(child.kill_and_reap());
                    }
                }
                ToolError::Exited {
                    server,
                    stderr: self.stderr.text(),
                }
            }
            ServiceError::Timeout { timeout } => ToolError::TimedOut {
                server,
                what: "a request".into(),
                after: timeout,
            },
            other => ToolError::Transport {
                server,
                reason: other.to_string(),
            },
        }
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.name)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}
