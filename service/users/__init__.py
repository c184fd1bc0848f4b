"""The users area: controller, service, repository and schemas."""
