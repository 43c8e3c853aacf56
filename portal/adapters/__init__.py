"""Adapters: how the portal talks to the world outside its database (mail servers, SMS gateways, a
folder). The services decide what; an adapter only knows how, and is chosen by configuration."""
