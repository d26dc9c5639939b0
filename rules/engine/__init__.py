"""The engine: parse once, walk once, place and suppress, repository facts, scans."""
