export const oauth = {
  clientId: "web-frontend",
};
const clientSecret = 'aZLDIk1TN5eq67WRGC8nunin';
