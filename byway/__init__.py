"""Byway: a bring-your-own-key gateway and library for LLM providers."""
