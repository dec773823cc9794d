// Package pricing is the instance, database and volume catalogue with its
// on-demand prices, shared by the agent, the optimizer and the simulated AWS
// account, so that every figure they compute comes from one source.
//
// The embedded snapshot (data/prices.json, snapshot date in the file and in
// [Catalogue.SnapshotDate]) holds on-demand Linux EC2 prices and specs,
// single-AZ RDS MySQL/PostgreSQL prices, EBS, idle public IPv4 and Lambda
// prices for us-east-1, us-west-2, eu-west-1, eu-central-1 and
// ap-southeast-1. Every price row carries the AWS usage type; with the
// region's location attribute it identifies the on-demand term in the AWS
// Price List bulk API offer file
// https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<offerCode>/current/<regionCode>/index.json
// (offer codes AmazonEC2, AmazonRDS, AWSLambda). data/README.md says how the
// snapshot was made and how far to trust it.
//
// A Catalogue never changes once built: [Catalogue.Merge] returns a new one,
// so readers need no locks and a refresh (from the Pricing API through
// [ParsePriceListItem] and from DescribeInstanceTypes) can be swapped in
// atomically by its owner.
package pricing
