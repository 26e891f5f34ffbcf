"""Umid: a Telegram bot for campaigns on prisoners of conscience."""
