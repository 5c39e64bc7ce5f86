"""Customer segments (客户分群): customers of a scope (the platform, or one shop) clustered
with k-means over their RFM and behaviour figures, each segment named from its centroid,
and marketing messages sent to a segment under a per-user frequency cap.

- `features`: one row per customer of a scope over the lookback window (set-based queries).
- `clustering`: scaling, k chosen by silhouette, or the reason there is no clustering.
- `naming`: a segment's name and one-line profile from its centroid (documented rules).
- `runs`: computing a scope's segments and replacing its current run in one transaction.
- `messaging`: a message to a segment as a tracked job, in batches, under the cap.
- `policies`: who may look at and message which segments.
"""
