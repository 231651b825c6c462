//! Bearer-token authentication and the per-RPC role checks.
//!
//! Authentication (who is calling) is the same for every RPC and happens in
//! [`Auth::authenticate`]; authorisation depends on the request's content (a terminal
//! may only name its own vehicle), so each handler asks its [`Principal`] the one
//! question it needs. Missing or unknown token: `UNAUTHENTICATED`; known caller
//! without the right: `PERMISSION_DENIED`.

use std::collections::HashMap;
use std::sync::Arc;

use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::config::{Role, TokenEntry};

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Name for logs.
    pub name: String,
    /// What it may do.
    pub role: Role,
}

impl Principal {
    /// Only dispatchers.
    pub fn require_dispatcher(&self) -> Result<(), Status> {
        match self.role {
            Role::Dispatcher => Ok(()),
            _ => Err(Status::permission_denied(format!(
                "`{}` is not a dispatcher",
                self.name
            ))),
        }
    }

    /// Readers of supervision data: regulators and dispatchers.
    pub fn require_supervisor(&self) -> Result<(), Status> {
        match self.role {
            Role::Dispatcher | Role::Regulator => Ok(()),
            Role::Terminal { .. } => Err(Status::permission_denied(format!(
                "`{}` is a terminal; supervision needs a regulator or dispatcher token",
                self.name
            ))),
        }
    }

    /// Reading a vehicle's assignments: its own terminal or a dispatcher.
    pub fn require_vehicle_read(&self, vehicle_id: &str) -> Result<(), Status> {
        match &self.role {
            Role::Dispatcher => Ok(()),
            Role::Terminal { vehicle_id: own } if own == vehicle_id => Ok(()),
            Role::Terminal { vehicle_id: own } => Err(Status::permission_denied(format!(
                "the terminal of `{own}` may not read vehicle `{vehicle_id}`"
            ))),
            Role::Regulator => Err(Status::permission_denied(
                "regulators read incidents through SupervisionService",
            )),
        }
    }

    /// Opening an event stream at all: terminals only (each batch is then checked
    /// against the terminal's vehicle).
    pub fn require_vehicle_write_any(&self) -> Result<(), Status> {
        match &self.role {
            Role::Terminal { .. } => Ok(()),
            Role::Regulator => Err(Status::permission_denied("regulators are read-only")),
            Role::Dispatcher => Err(Status::permission_denied(
                "events are reported by the vehicle's terminal",
            )),
        }
    }

    /// Reporting events for a vehicle: its own terminal only.
    pub fn require_vehicle_write(&self, vehicle_id: &str) -> Result<(), Status> {
        match &self.role {
            Role::Terminal { vehicle_id: own } if own == vehicle_id => Ok(()),
            Role::Terminal { vehicle_id: own } => Err(Status::permission_denied(format!(
                "the terminal of `{own}` may not report for vehicle `{vehicle_id}`"
            ))),
            Role::Regulator => Err(Status::permission_denied("regulators are read-only")),
            Role::Dispatcher => Err(Status::permission_denied(
                "events are reported by the vehicle's terminal",
            )),
        }
    }
}

/// The token table.
#[derive(Clone, Debug, Default)]
pub struct Auth {
    tokens: Arc<HashMap<String, Principal>>,
}

impl Auth {
    /// From the configuration's token list (checked by `ServerConfig::check`).
    pub fn new(entries: &[TokenEntry]) -> Self {
        let tokens = entries
            .iter()
            .map(|e| {
                let name = e.name.clone().unwrap_or_else(|| match &e.role {
                    Role::Dispatcher => "dispatcher".to_owned(),
                    Role::Regulator => "regulator".to_owned(),
                    Role::Terminal { vehicle_id } => format!("terminal {vehicle_id}"),
                });
                (
                    e.token.clone(),
                    Principal {
                        name,
                        role: e.role.clone(),
                    },
                )
            })
            .collect();
        Auth {
            tokens: Arc::new(tokens),
        }
    }

    /// Number of configured tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether no token is configured (then every call is refused).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The caller named by the request's `authorization: Bearer <token>` header.
    pub fn authenticate(&self, md: &MetadataMap) -> Result<Principal, Status> {
        let Some(v) = md.get("authorization") else {
            return Err(Status::unauthenticated(
                "missing `authorization: Bearer <token>` metadata",
            ));
        };
        let v = v
            .to_str()
            .map_err(|_| Status::unauthenticated("authorization metadata is not ASCII"))?;
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .ok_or_else(|| Status::unauthenticated("authorization must be `Bearer <token>`"))?
            .trim();
        self.tokens
            .get(token)
            .cloned()
            .ok_or_else(|| Status::unauthenticated("unknown token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    fn auth() -> Auth {
        let e = |t: &str, role| TokenEntry {
            token: t.into(),
            name: None,
            role,
        };
        Auth::new(&[
            e("d", Role::Dispatcher),
            e("r", Role::Regulator),
            e(
                "t1",
                Role::Terminal {
                    vehicle_id: "T1".into(),
                },
            ),
        ])
    }

    fn md(v: Option<&str>) -> MetadataMap {
        let mut m = MetadataMap::new();
        if let Some(v) = v {
            m.insert("authorization", v.parse().unwrap());
        }
        m
    }

    #[test]
    fn missing_or_unknown_tokens_are_unauthenticated() {
        let a = auth();
        for h in [None, Some("Bearer nope"), Some("Basic d"), Some("d")] {
            assert_eq!(
                a.authenticate(&md(h)).unwrap_err().code(),
                Code::Unauthenticated,
                "{h:?}"
            );
        }
        assert_eq!(
            a.authenticate(&md(Some("Bearer d"))).unwrap().role,
            Role::Dispatcher
        );
    }

    #[test]
    fn roles_are_enforced() {
        let a = auth();
        let t1 = a.authenticate(&md(Some("Bearer t1"))).unwrap();
        let r = a.authenticate(&md(Some("Bearer r"))).unwrap();
        let d = a.authenticate(&md(Some("Bearer d"))).unwrap();
        assert!(t1.require_vehicle_read("T1").is_ok());
        assert!(t1.require_vehicle_write("T1").is_ok());
        assert_eq!(
            t1.require_vehicle_read("T2").unwrap_err().code(),
            Code::PermissionDenied
        );
        assert_eq!(
            t1.require_vehicle_write("T2").unwrap_err().code(),
            Code::PermissionDenied
        );
        assert_eq!(
            t1.require_dispatcher().unwrap_err().code(),
            Code::PermissionDenied
        );
        assert_eq!(
            t1.require_supervisor().unwrap_err().code(),
            Code::PermissionDenied
        );
        assert_eq!(
            r.require_vehicle_write("T1").unwrap_err().code(),
            Code::PermissionDenied
        );
        assert_eq!(
            r.require_dispatcher().unwrap_err().code(),
            Code::PermissionDenied
        );
        assert!(r.require_supervisor().is_ok());
        assert!(d.require_dispatcher().is_ok() && d.require_vehicle_read("T2").is_ok());
        assert_eq!(
            d.require_vehicle_write("T1").unwrap_err().code(),
            Code::PermissionDenied
        );
    }
}
