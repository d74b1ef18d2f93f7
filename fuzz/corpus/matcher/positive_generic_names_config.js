module.exports = {
  apiKey: "kI6fxkvvkZQTYhIWg8-4RyJq",
};
