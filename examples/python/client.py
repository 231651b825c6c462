#!/usr/bin/env python3
"""A sortfleet gRPC client that needs no generated code: it learns the contract from the
server's reflection service (grpc.reflection.v1alpha) and builds messages at run time.

    python3 -m venv venv && venv/bin/pip install grpcio grpcio-reflection protobuf
    venv/bin/python client.py --addr 127.0.0.1:50051 services
    venv/bin/python client.py --token DISPATCHER_TOKEN upsert master.json
    venv/bin/python client.py --token DISPATCHER_TOKEN plan 2026-11-30 --publish
    venv/bin/python client.py --token T1_TOKEN terminal T1 --after-seq 0 --count 2
    venv/bin/python client.py --token T1_TOKEN report T1 events.json
    venv/bin/python client.py --token REGULATOR_TOKEN incidents --count 3

Messages are read and printed as protobuf JSON (field names in lowerCamelCase).
"""

import argparse
import json
import sys

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


class Client:
    """Calls any method of the server by its full name, e.g.
    `sortfleet.v1.DispatchService.PlanDay`, with a dict as the request."""

    def __init__(self, addr, token=None, ca=None):
        if ca:
            with open(ca, "rb") as f:
                creds = grpc.ssl_channel_credentials(root_certificates=f.read())
            self.channel = grpc.secure_channel(addr, creds)
        else:
            self.channel = grpc.insecure_channel(addr)
        self.db = ProtoReflectionDescriptorDatabase(self.channel)
        self.pool = descriptor_pool.DescriptorPool(self.db)
        self.metadata = [("authorization", f"Bearer {token}")] if token else []

    def services(self):
        return list(self.db.get_services())

    def _method(self, full_name):
        m = self.pool.FindMethodByName(full_name)
        req = message_factory.GetMessageClass(m.input_type)
        resp = message_factory.GetMessageClass(m.output_type)
        path = f"/{m.containing_service.full_name}/{m.name}"
        return m, req, resp, path

    def call(self, full_name, request=None):
        """A unary call; returns the response as a dict."""
        m, req, resp, path = self._method(full_name)
        fn = self.channel.unary_unary(
            path, request_serializer=req.SerializeToString, response_deserializer=resp.FromString
        )
        out = fn(json_format.ParseDict(request or {}, req()), metadata=self.metadata)
        return json_format.MessageToDict(out)

    def stream(self, full_name, request=None):
        """A server-streaming call; yields responses as dicts."""
        m, req, resp, path = self._method(full_name)
        fn = self.channel.unary_stream(
            path, request_serializer=req.SerializeToString, response_deserializer=resp.FromString
        )
        for out in fn(json_format.ParseDict(request or {}, req()), metadata=self.metadata):
            yield json_format.MessageToDict(out)

    def bidi(self, full_name, requests):
        """A bidirectional call; yields responses as dicts."""
        m, req, resp, path = self._method(full_name)
        fn = self.channel.stream_stream(
            path, request_serializer=req.SerializeToString, response_deserializer=resp.FromString
        )
        msgs = (json_format.ParseDict(r, req()) for r in requests)
        for out in fn(msgs, metadata=self.metadata):
            yield json_format.MessageToDict(out)


def show(obj):
    print(json.dumps(obj, indent=None, sort_keys=True))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--addr", default="127.0.0.1:50051")
    ap.add_argument("--token", help="bearer token from the server's config file")
    ap.add_argument("--ca", help="CA certificate (PEM) when the server uses TLS")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("services", help="list services and their methods via reflection")
    p = sub.add_parser("upsert", help="UpsertMasterData from a JSON file")
    p.add_argument("file")
    p = sub.add_parser("plan", help="PlanDay, follow the job, optionally publish")
    p.add_argument("date")
    p.add_argument("--time-limit", type=int, default=2)
    p.add_argument("--publish", action="store_true")
    p = sub.add_parser("terminal", help="SubscribeAssignments as a vehicle's terminal")
    p.add_argument("vehicle")
    p.add_argument("--after-seq", type=int, default=0)
    p.add_argument("--count", type=int, default=1, help="stop after this many non-heartbeat messages")
    p = sub.add_parser("report", help="ReportEvents: one batch from a JSON list of TruckEvents")
    p.add_argument("vehicle")
    p.add_argument("file")
    p = sub.add_parser("incidents", help="SubscribeIncidents as a regulator")
    p.add_argument("--after-seq", type=int, default=0)
    p.add_argument("--count", type=int, default=1)
    args = ap.parse_args()

    c = Client(args.addr, args.token, args.ca)
    try:
        if args.cmd == "services":
            for s in c.services():
                methods = []
                if s.startswith("sortfleet."):
                    methods = [m.name for m in c.pool.FindServiceByName(s).methods]
                print(s, " ".join(methods))
        elif args.cmd == "upsert":
            with open(args.file) as f:
                show(c.call("sortfleet.v1.DispatchService.UpsertMasterData", json.load(f)))
        elif args.cmd == "plan":
            job = c.call(
                "sortfleet.v1.DispatchService.PlanDay",
                {"serviceDate": args.date, "timeLimitS": args.time_limit},
            )["jobId"]
            plan_id = None
            for u in c.stream("sortfleet.v1.DispatchService.WatchPlanJob", {"jobId": job}):
                show({k: u.get(k) for k in ("phase", "bestCostCents", "unservedCount", "planId", "error") if k in u})
                plan_id = u.get("planId", plan_id)
            if plan_id and args.publish:
                show(c.call("sortfleet.v1.DispatchService.PublishPlan", {"planId": plan_id}))
        elif args.cmd == "terminal":
            n = 0
            req = {"vehicleId": args.vehicle, "afterSeq": args.after_seq}
            for m in c.stream("sortfleet.v1.TerminalService.SubscribeAssignments", req):
                if "heartbeat" in m:
                    print("heartbeat", m["heartbeat"].get("headSeq", 0))
                    continue
                kind = next(k for k in m if k not in ("seq", "createdAt"))
                body = m[kind]
                if kind in ("routeVersion", "routeRevision"):
                    r = body.get("route", {})
                    stops = sum(len(t.get("stops", [])) for t in r.get("trips", []))
                    print(f"seq {m['seq']} {kind} plan {body.get('planId')} version {body.get('version')}: "
                          f"{len(r.get('trips', []))} trip(s), {stops} stop(s)")
                elif kind == "violationWarning":
                    i = body["incident"]
                    print(f"seq {m['seq']} warning {i.get('rule')} {i.get('severity')}: {i.get('message')}")
                else:
                    print(f"seq {m.get('seq')} {kind}", json.dumps(body)[:200])
                n += 1
                if n >= args.count:
                    break
        elif args.cmd == "report":
            with open(args.file) as f:
                events = json.load(f)
            batch = {"vehicleId": args.vehicle, "deviceId": "python-demo", "events": events}
            for ack in c.bidi("sortfleet.v1.TerminalService.ReportEvents", iter([batch])):
                show(ack)
        elif args.cmd == "incidents":
            n = 0
            for m in c.stream("sortfleet.v1.SupervisionService.SubscribeIncidents", {"afterSeq": args.after_seq}):
                if "heartbeat" in m:
                    continue
                i = m["incident"]
                print(f"incident {i.get('seq')} {i.get('rule')} {i.get('severity')} vehicle {i.get('vehicleId')}: {i.get('message')}")
                n += 1
                if n >= args.count:
                    break
    except grpc.RpcError as e:
        print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
