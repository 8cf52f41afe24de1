"""The landing page (role choice), the role switcher and the home screen."""
