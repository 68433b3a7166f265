//! Sync between machines: bundle export and import, mirrors of other origins, witness cosignatures,
//! fork and truncation detection, inclusion and consistency proofs.
