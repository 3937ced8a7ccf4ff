"""Batch: JSONL in, concurrent rate-aware requests, resumable JSONL records out; Zhipu's Batch API."""
