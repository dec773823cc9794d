// Package pricing is the instance, database and volume catalogue with its
// on-demand prices, shared by the agent, the optimizer and the simulated AWS
// account, so that every figure they compute comes from one source.
//
// The embedded snapshot (data/prices.json, snapshot date in the file and in
// [Catalogue.SnapshotDate], provenance in [Catalogue.Source]) holds
// on-demand Linux EC2 prices and specs, single-AZ RDS MySQL/PostgreSQL
// instance and storage prices, EBS, public IPv4, Lambda and S3 Standard
// prices for us-east-1, us-west-2, eu-west-1, eu-central-1 and
// ap-southeast-1. It is compiled by hand from AWS's published prices, not
// extracted from the AWS Price List: data/README.md says how it was made,
// how far to trust it, and how `agentd pricing import` rebuilds it from
// Price List bulk offer files ([ImportOfferFiles]). Every price row carries
// the AWS usage type of the Price List product it stands for.
//
// A Catalogue never changes once built: [Catalogue.Merge] returns a new one,
// so readers need no locks and a refresh (from the Pricing API through
// [ParsePriceListItem] and from DescribeInstanceTypes) can be swapped in
// atomically by its owner.
package pricing
