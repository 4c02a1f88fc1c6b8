#!/usr/bin/env python3
"""Writes Azure deployment operations as JSON for the memory bench (compare.sh):
`genazure.py OUT MIB docs` (concatenated documents of 200 operations) or `... array`
(one array export). Deterministic; one operation in 500 failed on a busy subnet."""
import json, sys, random
random.seed(7)
out = open(sys.argv[1], 'w'); limit = int(sys.argv[2]) << 20; mode = sys.argv[3]
written = 0; n = 0
def op(i):
    fail = random.random() < 0.002
    rg = f"hsm-rg-{i % 97}"
    rid = f"/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/vnet-{i}/subnets/hsmsubnet"
    props = {"provisioningOperation": "Create", "provisioningState": "Failed" if fail else "Succeeded",
             "timestamp": f"2026-03-01T{10 + i // 3600 % 12:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000000+00:00",
             "duration": "PT1.5S", "trackingId": f"{i:08x}-0000-0000-0000-000000000000",
             "statusCode": "Conflict" if fail else "OK",
             "targetResource": {"id": rid, "resourceName": f"vnet-{i}/hsmsubnet", "resourceType": "Microsoft.Network/virtualNetworks/subnets"}}
    if fail:
        props["statusMessage"] = {"status": "Failed", "error": {"code": "AnotherOperationInProgress", "message": "Another operation on this or dependent resource is in progress."}}
    return {"id": f"/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/{rg}/providers/Microsoft.Resources/deployments/hsm-deploy/operations/{i:016X}", "operationId": f"{i:016X}", "properties": props}
if mode == "array":
    out.write("[\n"); first = True
    while written < limit:
        s = ("" if first else ",\n") + json.dumps(op(n), indent=2); first = False
        out.write(s); written += len(s); n += 1
    out.write("\n]\n")
else:
    while written < limit:
        doc = [op(n + k) for k in range(200)]; n += 200
        s = json.dumps(doc, indent=2) + "\n"
        out.write(s); written += len(s)
