//! Example programs for ad-hoc ESX and vCenter queries live in `src/bin/`.
