"""Klaviyo: marketing profiles, consent and email engagement in; loyalty properties out."""
