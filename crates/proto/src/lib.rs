//! Generated tonic/prost code for the `sortfleet.v1` gRPC contract in `proto/sortfleet/v1`.
//!
//! The protos are compiled by `protox` at build time, so building needs only the Rust
//! toolchain. Nothing but generated code lives here: conversions to the domain model are
//! at the server edge (`sortfleet-server::convert`), so `model` never learns protobuf.

/// The `sortfleet.v1` package: messages, enums, `*_server` and `*_client` modules.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("sortfleet.v1");
}

/// Encoded `FileDescriptorSet` of the contract (with imports), for the reflection service.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/sortfleet_descriptor.bin"));

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn descriptor_set_names_all_services() {
        let fds = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
        let services: Vec<String> = fds
            .file
            .iter()
            .filter(|f| f.package() == "sortfleet.v1")
            .flat_map(|f| f.service.iter().map(|s| s.name().to_owned()))
            .collect();
        for s in ["DispatchService", "TerminalService", "SupervisionService"] {
            assert!(
                services.iter().any(|x| x == s),
                "{s} missing from {services:?}"
            );
        }
        assert!(
            fds.file
                .iter()
                .any(|f| f.name() == "google/protobuf/timestamp.proto")
        );
    }

    /// The contract is the documentation for clients nobody here wrote: every message,
    /// field, enum, value, service and RPC carries a leading comment.
    #[test]
    fn every_element_is_documented() {
        let fds = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
        let mut missing = Vec::new();
        for f in fds.file.iter().filter(|f| f.package() == "sortfleet.v1") {
            let info = f.source_code_info.as_ref().expect("source info kept");
            let documented = |path: &[i32]| {
                info.location
                    .iter()
                    .any(|l| l.path == path && !l.leading_comments().trim().is_empty())
            };
            let mut check = |path: Vec<i32>, what: String| {
                if !documented(&path) {
                    missing.push(format!("{}: {what}", f.name()));
                }
            };
            for (i, m) in f.message_type.iter().enumerate() {
                check(vec![4, i as i32], m.name().to_owned());
                for (j, fld) in m.field.iter().enumerate() {
                    check(
                        vec![4, i as i32, 2, j as i32],
                        format!("{}.{}", m.name(), fld.name()),
                    );
                }
            }
            for (i, e) in f.enum_type.iter().enumerate() {
                check(vec![5, i as i32], e.name().to_owned());
                for (j, v) in e.value.iter().enumerate() {
                    check(vec![5, i as i32, 2, j as i32], v.name().to_owned());
                }
            }
            for (i, s) in f.service.iter().enumerate() {
                check(vec![6, i as i32], s.name().to_owned());
                for (j, m) in s.method.iter().enumerate() {
                    check(
                        vec![6, i as i32, 2, j as i32],
                        format!("{}.{}", s.name(), m.name()),
                    );
                }
            }
        }
        assert!(missing.is_empty(), "undocumented: {missing:#?}");
    }

    #[test]
    fn stream_enum_round_trips_by_name() {
        assert_eq!(
            v1::Stream::from_str_name("STREAM_KITCHEN"),
            Some(v1::Stream::Kitchen)
        );
        assert_eq!(v1::Stream::try_from(99), Err(prost::UnknownEnumValue(99)));
        let ev = v1::TruckEvent {
            client_event_id: "e1".into(),
            device_seq: 7,
            kind: Some(v1::truck_event::Kind::BodySensor(v1::BodySensor {
                tipping: true,
            })),
            ..Default::default()
        };
        let back = v1::TruckEvent::decode(ev.encode_to_vec().as_slice()).unwrap();
        assert_eq!(back, ev);
    }
}
