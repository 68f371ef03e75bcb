-- Gives every request a URL of its own (an ignored `nocache` parameter), so
-- none is answered from the server's read cache: each one reads the database.
local threads = 0

function setup(thread)
    threads = threads + 1
    thread:set("id", threads)
end

function init(args)
    counter = 0
end

function request()
    counter = counter + 1
    return wrk.format(nil, wrk.path .. "&nocache=" .. id .. "-" .. counter)
end
