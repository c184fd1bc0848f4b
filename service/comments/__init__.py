"""The comments area: controller, service, repository and schemas."""
