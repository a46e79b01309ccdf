"""Campaigns (活动) and the secretariat's campaign desk."""
