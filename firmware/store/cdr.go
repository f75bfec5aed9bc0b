package store

// CDRs holds the switch's call detail records (schema version 4), keyed by
// the call's start time and id (Key.AppendTime, Key.AppendString) so that
// a time range is one cursor seek; firmware/app writes and pages them.
const CDRs Records = "cdr"
