#!/bin/sh
# Creates the namespace and this service's search attributes (Keyword): DestinationId, AudienceId,
# ActivationStatus, SyncId (src/temporal/search-attributes.ts). Idempotent; run on every `docker compose up`.
set -eu
ADDRESS=${TEMPORAL_ADDRESS:-temporal:7233}
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
SEARCH_ATTRIBUTES="DestinationId AudienceId ActivationStatus SyncId"

tries=0
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -ge 60 ] && { echo "Temporal at $ADDRESS is not healthy"; exit 1; }
  sleep 2
done

temporal operator namespace describe --address "$ADDRESS" -n "$NAMESPACE" >/dev/null 2>&1 \
  || temporal operator namespace create --address "$ADDRESS" -n "$NAMESPACE" --retention 30d

existing=$(temporal operator search-attribute list --address "$ADDRESS" -n "$NAMESPACE" || true)
for name in $SEARCH_ATTRIBUTES; do
  if echo "$existing" | grep -qw "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --address "$ADDRESS" -n "$NAMESPACE" --name "$name" --type Keyword
  fi
done
echo "namespace $NAMESPACE and search attributes ready"
