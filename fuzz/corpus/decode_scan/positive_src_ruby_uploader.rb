require "aws-sdk-s3"

class Uploader
  BUCKET = "acme-assets".freeze

  def initialize
    creds = Aws::Credentials.new('AKIAPLKNZK2HVW5CIX3E', 'U3x21AU2XS94xdWrOKCFaqv0hpnwqfSvAikF6pBh')
    @s3 = Aws::S3::Resource.new(region: "us-east-1", credentials: creds)
  end

  def upload(path)
    @s3.bucket(BUCKET).object(File.basename(path)).upload_file(path)
  end
end
